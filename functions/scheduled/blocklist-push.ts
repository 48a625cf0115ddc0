import { optionalEnv } from '../../shared/config/env';
import { decisionStores } from '../../shared/decisions';
import { syncCampaign } from '../../shared/googleAds/exclusions';
import {
  customerFor,
  GOOGLE_ADS_SECRET_ENV,
  GoogleAdsExclusionTarget,
  loadGoogleAdsCredentials,
} from '../../shared/googleAds/googleAdsTarget';
import { logger } from '../../shared/observability';
import { readBlocklist } from '../../shared/reporting/blocklist';
import { forEachProperty } from '../../shared/reporting/propertyDirectory';

/** The window of the pushed blocklist: the blocklist route's default. */
const PUSH_WINDOW_DAYS = 30;

/** Pushes each linked property's blocklist into its Google Ads campaigns as IP exclusions (≤ 500 each). */
export const handler = async (): Promise<{ done: number; failed: number; skipped?: string }> => {
  const secretArn = optionalEnv(GOOGLE_ADS_SECRET_ENV);
  if (!secretArn) {
    logger.info('blocklist push skipped: no Google Ads credentials configured', { env: GOOGLE_ADS_SECRET_ENV });
    return { done: 0, failed: 0, skipped: 'no credentials' };
  }
  const credentials = await loadGoogleAdsCredentials(secretArn);
  const now = Date.now();
  const { done, failed } = await forEachProperty(async ({ propertyId, config }) => {
    const account = config.adAccount;
    if (!account?.enabled || !account.campaignIds?.length) return;
    const blocklist = await readBlocklist(decisionStores().ipReputation, propertyId, {
      threshold: config.thresholds.fraud,
      allowlist: config.allowlist,
      sinceMs: now - PUSH_WINDOW_DAYS * 86_400_000,
    });
    const target = new GoogleAdsExclusionTarget(customerFor(credentials, account), account.customerId);
    for (const campaignId of account.campaignIds) {
      const plan = await syncCampaign(target, campaignId, blocklist);
      logger.info('campaign exclusions synced', {
        propertyId,
        campaignId,
        added: plan.add.length,
        removed: plan.remove.length,
      });
    }
  });
  return { done, failed: failed.length };
};
