import { GoogleAdsApi } from 'google-ads-api';
import { ENV } from '../config/env';
import type { GoogleAdsCredentials } from './credentials';
import type { AdsExclusionTarget, CurrentExclusion } from './exclusions';

/** @deprecated use ENV.googleAdsSecretArn. */
export const GOOGLE_ADS_SECRET_ENV = ENV.googleAdsSecretArn;

/** The part of google-ads-api's Customer this target uses (so tests can hand in a fake). */
export interface AdsCustomer {
  query<T = unknown>(gaql: string): Promise<T>;
  readonly campaignCriteria: {
    create(criteria: Record<string, unknown>[]): Promise<unknown>;
    remove(resourceNames: string[]): Promise<unknown>;
  };
}

const digits = (id: string) => id.replace(/-/g, '');

/** What the API client is built from: the property's link picks the manager account, else the secret's. */
export function customerOptions(
  credentials: GoogleAdsCredentials,
  account: { customerId: string; loginCustomerId?: string },
): { customer_id: string; refresh_token: string; login_customer_id?: string } {
  const login = account.loginCustomerId ?? credentials.login_customer_id;
  return {
    customer_id: digits(account.customerId),
    refresh_token: credentials.refresh_token,
    ...(login ? { login_customer_id: digits(login) } : {}),
  };
}

export function customerFor(
  credentials: GoogleAdsCredentials,
  account: { customerId: string; loginCustomerId?: string },
): AdsCustomer {
  const api = new GoogleAdsApi({
    client_id: credentials.client_id,
    client_secret: credentials.client_secret,
    developer_token: credentials.developer_token,
  });
  return api.Customer(customerOptions(credentials, account)) as unknown as AdsCustomer;
}

/**
 * A link without `campaignIds` covers the account's enabled campaigns of these types: their clicks land on
 * the advertiser's pages, and they take IP exclusions as campaign criteria. Others can be listed explicitly.
 */
export const ENABLED_CAMPAIGNS_QUERY =
  "SELECT campaign.id FROM campaign WHERE campaign.status = 'ENABLED' " +
  "AND campaign.advertising_channel_type IN ('SEARCH', 'DISPLAY', 'SHOPPING')";

interface CampaignRow {
  campaign?: { id?: number | string };
}

interface IpBlockRow {
  campaign_criterion?: { resource_name?: string; ip_block?: { ip_address?: string } };
}

/** Campaign IP exclusions are negative campaign criteria of type IP_BLOCK. */
export class GoogleAdsExclusionTarget implements AdsExclusionTarget {
  constructor(
    private readonly customer: AdsCustomer,
    private readonly customerId: string,
  ) {}

  async listCampaignIds(): Promise<string[]> {
    const rows = await this.customer.query<CampaignRow[]>(ENABLED_CAMPAIGNS_QUERY);
    return rows.flatMap((row) => (row.campaign?.id === undefined ? [] : [String(row.campaign.id)]));
  }

  async listIpExclusions(campaignId: string): Promise<CurrentExclusion[]> {
    const rows = await this.customer.query<IpBlockRow[]>(
      'SELECT campaign_criterion.resource_name, campaign_criterion.ip_block.ip_address FROM campaign_criterion ' +
        `WHERE campaign_criterion.type = 'IP_BLOCK' AND campaign.id = ${digits(campaignId)}`,
    );
    return rows.flatMap((row) => {
      const criterion = row.campaign_criterion;
      const ip = criterion?.ip_block?.ip_address;
      return criterion?.resource_name && ip ? [{ ip, resourceName: criterion.resource_name }] : [];
    });
  }

  async addIpExclusions(campaignId: string, ips: readonly string[]): Promise<void> {
    const campaign = `customers/${digits(this.customerId)}/campaigns/${digits(campaignId)}`;
    await this.customer.campaignCriteria.create(
      ips.map((ip) => ({ campaign, negative: true, ip_block: { ip_address: ip } })),
    );
  }

  async removeIpExclusions(_campaignId: string, resourceNames: readonly string[]): Promise<void> {
    await this.customer.campaignCriteria.remove([...resourceNames]);
  }
}
