import type { IpReputationStore } from '../decisions/ipReputation';
import { logger } from '../observability';
import type { AdAccountLink, EffectiveConfig } from '../properties/config';
import { readBlocklist } from '../reporting/blocklist';
import { type AdsExclusionTarget, type ExclusionPlan, syncCampaign } from './exclusions';

/** The window of the pushed blocklist: the blocklist route's default. */
export const PUSH_WINDOW_DAYS = 30;

export interface BlocklistPushDeps {
  readonly ipReputation: IpReputationStore;
  /** The ad account's campaigns (Google Ads in the service, a fake in tests). */
  readonly targetFor: (account: AdAccountLink) => AdsExclusionTarget;
  readonly now: number;
}

export interface CampaignPush extends ExclusionPlan {
  readonly campaignId: string;
}

export class CampaignPushError extends Error {
  override readonly name = 'CampaignPushError';
}

/**
 * One property's push: its blocklist (its fraud threshold, its allowlist, the last PUSH_WINDOW_DAYS) into
 * each campaign of its ad-account link, or every enabled campaign of the account when the link names none.
 * Undefined when the property has no enabled link. A campaign that fails does not stop the others; the
 * property then fails as a whole, after them.
 */
export async function pushPropertyBlocklist(
  deps: BlocklistPushDeps,
  property: { propertyId: string; config: EffectiveConfig },
): Promise<CampaignPush[] | undefined> {
  const { propertyId, config } = property;
  const account = config.adAccount;
  if (!account?.enabled) return undefined;
  const target = deps.targetFor(account);
  const campaignIds = account.campaignIds?.length ? account.campaignIds : await target.listCampaignIds();
  const blocklist = await readBlocklist(deps.ipReputation, propertyId, {
    threshold: config.thresholds.fraud,
    allowlist: config.allowlist,
    sinceMs: deps.now - PUSH_WINDOW_DAYS * 86_400_000,
  });
  const pushed: CampaignPush[] = [];
  let failures = 0;
  for (const campaignId of campaignIds) {
    try {
      const plan = await syncCampaign(target, campaignId, blocklist);
      pushed.push({ campaignId, ...plan });
      logger.info('campaign exclusions synced', {
        propertyId,
        campaignId,
        added: plan.add.length,
        removed: plan.remove.length,
      });
    } catch (error) {
      failures++;
      logger.error('campaign exclusions not synced', {
        propertyId,
        campaignId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
      });
    }
  }
  if (failures > 0) throw new CampaignPushError(`${failures} of ${campaignIds.length} campaigns not synced`);
  if (campaignIds.length === 0) logger.info('no campaign takes IP exclusions', { propertyId });
  return pushed;
}
