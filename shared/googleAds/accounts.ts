import { ENV, optionalEnv } from '../config/env';
import type { AdAccountLink } from '../properties/config';
import { clickStores, exclusionLedger, sourceStatsStore } from '../store';
import { AdAccountUnavailable } from './accountAccess';
import type { AdsAccount } from './adsAccount';
import { type GoogleAdsCredentials, loadGoogleAdsCredentials } from './credentials';
import type { ExclusionDeps } from './exclusionRun';
import { type PlacementSource, sourceQualityPlacements } from './placements';
import type { RecordedGoogleAds } from './recordedGoogleAds';

/**
 * google-ads-api is most of a Google Ads function's code (~28 MiB bundled): it is loaded on first use, when a
 * linked account is actually reached, not when the function starts (a run with no linked account never loads it).
 * Deployed, `./googleAdsApi` is a bundle of its own beside the function's (GOOGLE_ADS_API_MODULE).
 */
const googleAdsApi = () => require('./googleAdsApi') as typeof import('./googleAdsApi');

export type AccountResolver = (propertyId: string, link: AdAccountLink) => Promise<AdsAccount | undefined>;

const digits = (id: string) => id.replace(/-/g, '');

/**
 * The local stack's Google Ads (CLICKSIEVE_GOOGLE_ADS_TRANSPORT=recorded): one recorded account per customer
 * id for the life of the process, each with a Search campaign (1001, holding one exclusion the "advertiser"
 * made by hand, 203.0.113.7) and a Performance Max campaign (1002), so plans and pushes show every case.
 */
const recordedAccounts = new Map<string, RecordedGoogleAds>();
export function recordedAccount(customerId: string): RecordedGoogleAds {
  const id = digits(customerId);
  let account = recordedAccounts.get(id);
  if (!account) {
    account = new (googleAdsApi().RecordedGoogleAds)(id)
      .addCampaign('1001', 'SEARCH')
      .addCampaign('1002', 'PERFORMANCE_MAX');
    account.addManualExclusion('203.0.113.7', '1001');
    recordedAccounts.set(id, account);
  }
  return account;
}

const RECORDED_CREDENTIALS: GoogleAdsCredentials = {
  developer_token: 'recorded',
  client_id: 'recorded',
  client_secret: 'recorded',
  refresh_token: 'recorded',
};

/**
 * How the service reaches a property's ad account: google-ads-api with the deployment's credentials
 * (Secrets Manager, by reference), or the recorded transport on the local stack. Undefined while no
 * credentials are configured (plans then say the account's state is unknown, an apply answers 502);
 * AdAccountUnavailable when the secret cannot be read.
 */
export function googleAdsAccounts(
  credentials: () => Promise<GoogleAdsCredentials | undefined> = async () => {
    const secretArn = optionalEnv(ENV.googleAdsSecretArn);
    return secretArn ? loadGoogleAdsCredentials(secretArn) : undefined;
  },
): AccountResolver {
  return async (propertyId, link) => {
    if (optionalEnv(ENV.googleAdsTransport) === 'recorded') {
      const { customerFor, GoogleAdsAccount } = googleAdsApi();
      const recorded = recordedAccount(link.customerId);
      return new GoogleAdsAccount(
        customerFor(RECORDED_CREDENTIALS, link, undefined, recorded.hooks()),
        link.customerId,
      );
    }
    let loaded: GoogleAdsCredentials | undefined;
    try {
      loaded = await credentials();
    } catch {
      // Secrets Manager unreachable, the secret missing or malformed: the cause may quote the secret's text.
      throw new AdAccountUnavailable('credentials_unreadable');
    }
    if (!loaded) return undefined;
    const { customerFor, GoogleAdsAccount } = googleAdsApi();
    return new GoogleAdsAccount(
      customerFor(loaded, link, loaded.property_refresh_tokens?.[propertyId]),
      link.customerId,
    );
  };
}

let serviceResolver: AccountResolver | undefined;
let servicePlacements: PlacementSource | undefined;

/** Low-quality placements from the deployment's traffic-source statistics. */
export function servicePlacementSource(): PlacementSource {
  if (!servicePlacements) {
    const sources = sourceStatsStore();
    servicePlacements = sourceQualityPlacements(sources);
  }
  return servicePlacements;
}

/** The deployment's exclusion dependencies (DynamoDB stores, the account resolver above) at `now`. */
export function serviceExclusionDeps(now: number): ExclusionDeps {
  serviceResolver ??= googleAdsAccounts();
  return {
    ipReputation: clickStores().ipReputation,
    ledger: exclusionLedger(),
    accountFor: serviceResolver,
    placements: servicePlacementSource(),
    now,
  };
}
