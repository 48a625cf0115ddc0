import { ENV, optionalEnv } from '../../shared/config/env';
import { decisionStores } from '../../shared/decisions';
import { pushPropertyBlocklist } from '../../shared/googleAds/blocklistPush';
import { type GoogleAdsCredentials, loadGoogleAdsCredentials } from '../../shared/googleAds/credentials';
import type { AdsExclusionTarget } from '../../shared/googleAds/exclusions';
import { customerFor, GoogleAdsExclusionTarget } from '../../shared/googleAds/googleAdsTarget';
import { logger } from '../../shared/observability';
import type { AdAccountLink } from '../../shared/properties/config';
import { forEachProperty } from '../../shared/reporting/propertyDirectory';

export interface BlocklistPushParts {
  /** Undefined while no credentials are configured (no secret, or the stack's empty one). */
  readonly credentials: () => Promise<GoogleAdsCredentials | undefined>;
  readonly targetFor: (credentials: GoogleAdsCredentials, account: AdAccountLink) => AdsExclusionTarget;
  readonly now?: () => number;
}

export type BlocklistPushReport = { done: number; failed: number; skipped?: 'not configured' };

/** Tests hand in their own credentials and a fake target; `handler` is built from the real ones. */
export function blocklistPushHandler(parts: BlocklistPushParts) {
  return async (): Promise<BlocklistPushReport> => {
    let credentials: GoogleAdsCredentials | undefined;
    try {
      credentials = await parts.credentials();
    } catch (error) {
      // Messages of GoogleAdsSecretError and of the SDK name fields and ARNs, never the secret's content.
      logger.error('Google Ads credentials unusable', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
      });
      throw error;
    }
    if (!credentials) {
      logger.info('blocklist push skipped: Google Ads credentials not configured');
      return { done: 0, failed: 0, skipped: 'not configured' };
    }
    const loaded = credentials;
    const deps = {
      ipReputation: decisionStores().ipReputation,
      targetFor: (account: AdAccountLink) => parts.targetFor(loaded, account),
      now: parts.now?.() ?? Date.now(),
    };
    const { done, failed } = await forEachProperty(async (property) => {
      await pushPropertyBlocklist(deps, property);
    });
    if (failed.length > 0) logger.error('blocklist push failed for some properties', { failed });
    return { done, failed: failed.length };
  };
}

/** schedules.blocklistPush: each linked property's blocklist into its Google Ads campaigns (≤ 500 each). */
export const handler = blocklistPushHandler({
  credentials: async () => {
    const secretArn = optionalEnv(ENV.googleAdsSecretArn);
    return secretArn ? loadGoogleAdsCredentials(secretArn) : undefined;
  },
  targetFor: (credentials, account) =>
    new GoogleAdsExclusionTarget(customerFor(credentials, account), account.customerId),
});
