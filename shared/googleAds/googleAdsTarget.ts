import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { GoogleAdsApi } from 'google-ads-api';
import { z } from 'zod';
import type { AdsExclusionTarget, CurrentExclusion } from './exclusions';

/** The Secrets Manager secret (GOOGLE_ADS_SECRET_ARN): OAuth client, developer token and a refresh token. */
export const GoogleAdsCredentials = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  developer_token: z.string().min(1),
  refresh_token: z.string().min(1),
});
export type GoogleAdsCredentials = z.infer<typeof GoogleAdsCredentials>;

export const GOOGLE_ADS_SECRET_ENV = 'GOOGLE_ADS_SECRET_ARN';

export async function loadGoogleAdsCredentials(secretArn: string): Promise<GoogleAdsCredentials> {
  const raw = await getSecret(secretArn, { maxAge: 300 });
  return GoogleAdsCredentials.parse(typeof raw === 'string' ? JSON.parse(raw) : raw);
}

/** The part of google-ads-api's Customer this target uses (so tests can hand in a fake). */
export interface AdsCustomer {
  query<T = unknown>(gaql: string): Promise<T>;
  readonly campaignCriteria: {
    create(criteria: Record<string, unknown>[]): Promise<unknown>;
    remove(resourceNames: string[]): Promise<unknown>;
  };
}

const digits = (id: string) => id.replace(/-/g, '');

export function customerFor(
  credentials: GoogleAdsCredentials,
  account: { customerId: string; loginCustomerId?: string },
): AdsCustomer {
  const api = new GoogleAdsApi({
    client_id: credentials.client_id,
    client_secret: credentials.client_secret,
    developer_token: credentials.developer_token,
  });
  return api.Customer({
    customer_id: digits(account.customerId),
    refresh_token: credentials.refresh_token,
    ...(account.loginCustomerId ? { login_customer_id: digits(account.loginCustomerId) } : {}),
  }) as unknown as AdsCustomer;
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
