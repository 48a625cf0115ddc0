import { AdAccountUnavailable } from '../../shared/googleAds/accountAccess';
import { type AccountResolver, googleAdsAccounts, servicePlacementSource } from '../../shared/googleAds/accounts';
import { runExclusions } from '../../shared/googleAds/exclusionRun';
import type { PlacementSource } from '../../shared/googleAds/placements';
import { logger } from '../../shared/observability';
import { clickStores, exclusionLedger } from '../../shared/store';
import { forEachProperty } from '../../shared/store/propertyDirectory';

type BlocklistPushReport = { done: number; failed: number };

/** Tests hand in their own account resolver (the recorded transport); `handler` uses the deployment's. */
export function blocklistPushHandler(parts: {
  accountFor: AccountResolver;
  placements?: PlacementSource;
  now?: () => number;
}) {
  return async (): Promise<BlocklistPushReport> => {
    const deps = {
      ipReputation: clickStores().ipReputation,
      ledger: exclusionLedger(),
      accountFor: parts.accountFor,
      placements: parts.placements,
      now: parts.now?.() ?? Date.now(),
    };
    const { done, failed } = await forEachProperty(async (property) => {
      if (!property.config.adAccount?.enabled) return;
      const report = await runExclusions(deps, property).catch((error: unknown) => {
        // The stack creates the Google Ads secret empty: until the operator fills it in, the push waits (not a
        // failure of this property); every other reason the account cannot be used fails the property.
        if (!(error instanceof AdAccountUnavailable) || error.problem !== 'credentials_not_configured') throw error;
        logger.warn('exclusion push waiting: Google Ads credentials not configured', {
          propertyId: property.propertyId,
        });
        return undefined;
      });
      if (!report) return;
      if (report.failed.length > 0) {
        logger.error('some exclusions not pushed', {
          propertyId: property.propertyId,
          runId: report.runId,
          failed: report.failed.map((f) => `${f.level}:${f.campaignId ?? '-'}:${f.error}`).slice(0, 20),
        });
      }
    });
    if (failed.length > 0) logger.error('exclusion push failed for some properties', { failed });
    return { done, failed: failed.length };
  };
}

/** schedules.blocklistPush: each linked property's exclusions into Google Ads, within the caps, owned and logged. */
export const handler = blocklistPushHandler({
  accountFor: googleAdsAccounts(),
  placements: servicePlacementSource(),
});
