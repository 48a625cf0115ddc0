import { type Customer, enums, errors, GoogleAdsApi, type Hooks, type services } from 'google-ads-api';
import { definedOnly } from '../optional';
import type { GoogleAdsCredentials } from './credentials';
import type { ExclusionLevel } from './selection';

/** An IP exclusion present in the ad account (clicksieve's or the advertiser's own). */
export interface AccountIpExclusion {
  readonly level: ExclusionLevel;
  /** Set for campaign-level exclusions. */
  readonly campaignId?: string;
  readonly value: string;
  readonly resourceName: string;
}

export interface AdsCampaign {
  readonly id: string;
  /** Google's AdvertisingChannelType name, e.g. SEARCH or PERFORMANCE_MAX. */
  readonly channelType: string;
}

/** What happened to one criterion of a mutate. */
export interface CriterionOutcome {
  readonly value: string;
  /** Set when it was created or removed. */
  readonly resourceName?: string;
  /** Google's error code name (e.g. INVALID_IP_ADDRESS, RESOURCE_COUNT_LIMIT_EXCEEDED), when it failed. */
  readonly error?: string;
  /** Worth another attempt (quota, internal or transient errors); a bad address or a full list is not. */
  readonly retryable: boolean;
}

/** The ad account as the push sees it: Google Ads through google-ads-api in the service and the local stack. */
export interface AdsAccount {
  listCampaigns(): Promise<AdsCampaign[]>;
  listIpExclusions(): Promise<AccountIpExclusion[]>;
  addIpExclusions(
    level: ExclusionLevel,
    campaignId: string | undefined,
    values: readonly string[],
  ): Promise<CriterionOutcome[]>;
  removeIpExclusions(
    level: ExclusionLevel,
    entries: readonly { value: string; resourceName: string }[],
  ): Promise<CriterionOutcome[]>;
  /** Account-level placement exclusions (CustomerNegativeCriterion.placement): they reach Performance Max too. */
  listPlacementExclusions(): Promise<{ value: string; resourceName: string }[]>;
  addPlacementExclusions(values: readonly string[]): Promise<CriterionOutcome[]>;
}

export const ENABLED_CAMPAIGNS_QUERY =
  'SELECT campaign.id, campaign.advertising_channel_type FROM campaign WHERE campaign.status = ENABLED';
export const CAMPAIGN_IP_BLOCKS_QUERY =
  'SELECT campaign.id, campaign_criterion.resource_name, campaign_criterion.ip_block.ip_address ' +
  'FROM campaign_criterion WHERE campaign_criterion.type = IP_BLOCK AND campaign_criterion.negative = TRUE ' +
  'AND campaign.status = ENABLED';
export const ACCOUNT_IP_BLOCKS_QUERY =
  'SELECT customer_negative_criterion.resource_name, customer_negative_criterion.ip_block.ip_address ' +
  'FROM customer_negative_criterion WHERE customer_negative_criterion.type = IP_BLOCK';

export const ACCOUNT_PLACEMENTS_QUERY =
  'SELECT customer_negative_criterion.resource_name, customer_negative_criterion.placement.url ' +
  'FROM customer_negative_criterion WHERE customer_negative_criterion.type = PLACEMENT';

const digits = (id: string) => id.replace(/-/g, '');

/** What the client is built from: the property's refresh token and manager account first, then the secret's. */
export function customerOptions(
  credentials: GoogleAdsCredentials,
  account: { customerId: string; loginCustomerId?: string },
  refreshToken?: string,
): { customer_id: string; refresh_token: string; login_customer_id?: string } {
  const login = account.loginCustomerId ?? credentials.login_customer_id;
  return definedOnly({
    customer_id: digits(account.customerId),
    refresh_token: refreshToken ?? credentials.refresh_token,
    login_customer_id: login && digits(login),
  });
}

/** A google-ads-api Customer; `hooks` is how the recorded transport answers without a network. */
export function customerFor(
  credentials: GoogleAdsCredentials,
  account: { customerId: string; loginCustomerId?: string },
  refreshToken?: string,
  hooks?: Hooks,
): Customer {
  const api = new GoogleAdsApi({
    client_id: credentials.client_id,
    client_secret: credentials.client_secret,
    developer_token: credentials.developer_token,
  });
  return api.Customer(customerOptions(credentials, account, refreshToken), hooks);
}

const channelName = (value: unknown): string =>
  typeof value === 'number' ? (enums.AdvertisingChannelType[value] ?? 'UNKNOWN') : String(value ?? 'UNKNOWN');

/** Error codes worth retrying: rate and quota, Google-side internal and transient failures. */
const RETRYABLE_CODES = new Set(['quota_error', 'internal_error', 'database_error']);

interface FailureLike {
  errors?: errors.IGoogleAdsError[] | null;
}

/** `{ criterion_error: 34 }` → INVALID_IP_ADDRESS (the enum's name); the error family decides whether to retry. */
function describeAdsError(error: errors.IGoogleAdsError): { code: string; retryable: boolean } {
  const [family, value] = Object.entries(error.error_code ?? {}).find(([, v]) => v !== null && v !== undefined) ?? [];
  if (!family) return { code: 'UNKNOWN', retryable: true };
  if (family === 'resource_count_limit_exceeded_error')
    return { code: 'RESOURCE_COUNT_LIMIT_EXCEEDED', retryable: false };
  const pascal = family
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
  const namespace = (errors as unknown as Record<string, Record<string, Record<number, string>> | undefined>)[
    `${pascal}Enum`
  ];
  const name = typeof value === 'number' ? (namespace?.[pascal]?.[value] ?? String(value)) : String(value);
  return { code: name, retryable: RETRYABLE_CODES.has(family) };
}

function isFailure(error: unknown): error is FailureLike {
  return typeof error === 'object' && error !== null && Array.isArray((error as FailureLike).errors);
}

/** Operation index → its first error, from a GoogleAdsFailure whose errors point at `operations[i]`. */
function errorsByOperation(failure: FailureLike | null | undefined): Map<number, errors.IGoogleAdsError> {
  const byIndex = new Map<number, errors.IGoogleAdsError>();
  for (const error of failure?.errors ?? []) {
    const index = error.location?.field_path_elements?.find((e) => e.field_name === 'operations')?.index;
    if (typeof index === 'number' && !byIndex.has(index)) byIndex.set(index, error);
  }
  return byIndex;
}

type MutateResponse = services.IMutateCampaignCriteriaResponse | services.IMutateCustomerNegativeCriteriaResponse;

/**
 * One outcome per value of a `partial_failure: true` mutate. A failure of the whole call (a GoogleAdsFailure
 * thrown by the library) fails every value with its code; anything else (network, auth) is thrown.
 */
async function outcomesOf(values: readonly string[], call: () => Promise<MutateResponse>): Promise<CriterionOutcome[]> {
  let response: MutateResponse;
  try {
    response = await call();
  } catch (error) {
    if (!isFailure(error) || !error.errors?.[0]) throw error;
    const { code, retryable } = describeAdsError(error.errors[0]);
    return values.map((value) => ({ value, error: code, retryable }));
  }
  const failed = errorsByOperation(response.partial_failure_error as FailureLike | null | undefined);
  return values.map((value, i) => {
    const error = failed.get(i);
    if (error) return { value, ...describeOutcome(error) };
    const resourceName = response.results?.[i]?.resource_name ?? undefined;
    return resourceName ? { value, resourceName, retryable: false } : { value, error: 'NO_RESULT', retryable: true };
  });
}

const describeOutcome = (error: errors.IGoogleAdsError) => {
  const { code, retryable } = describeAdsError(error);
  return { error: code, retryable };
};

interface CampaignRow {
  campaign?: { id?: number | string | null; advertising_channel_type?: unknown } | null;
}
interface CampaignIpRow extends CampaignRow {
  campaign_criterion?: { resource_name?: string | null; ip_block?: { ip_address?: string | null } | null } | null;
}
interface AccountPlacementRow {
  customer_negative_criterion?: { resource_name?: string | null; placement?: { url?: string | null } | null } | null;
}
interface AccountIpRow {
  customer_negative_criterion?: {
    resource_name?: string | null;
    ip_block?: { ip_address?: string | null } | null;
  } | null;
}

/** IP exclusions as negative CampaignCriterion (campaign) and CustomerNegativeCriterion (account) of type IP_BLOCK. */
export class GoogleAdsAccount implements AdsAccount {
  constructor(
    private readonly customer: Customer,
    private readonly customerId: string,
  ) {}

  async listCampaigns(): Promise<AdsCampaign[]> {
    const rows = (await this.customer.query(ENABLED_CAMPAIGNS_QUERY)) as CampaignRow[];
    return rows.flatMap((row) =>
      row.campaign?.id === undefined || row.campaign.id === null
        ? []
        : [{ id: String(row.campaign.id), channelType: channelName(row.campaign.advertising_channel_type) }],
    );
  }

  async listIpExclusions(): Promise<AccountIpExclusion[]> {
    const [campaignRows, accountRows] = await Promise.all([
      this.customer.query(CAMPAIGN_IP_BLOCKS_QUERY) as Promise<CampaignIpRow[]>,
      this.customer.query(ACCOUNT_IP_BLOCKS_QUERY) as Promise<AccountIpRow[]>,
    ]);
    const found: AccountIpExclusion[] = [];
    for (const row of accountRows) {
      const c = row.customer_negative_criterion;
      if (c?.resource_name && c.ip_block?.ip_address)
        found.push({ level: 'account', value: c.ip_block.ip_address, resourceName: c.resource_name });
    }
    for (const row of campaignRows) {
      const c = row.campaign_criterion;
      if (c?.resource_name && c.ip_block?.ip_address && row.campaign?.id !== undefined && row.campaign.id !== null)
        found.push({
          level: 'campaign',
          campaignId: String(row.campaign.id),
          value: c.ip_block.ip_address,
          resourceName: c.resource_name,
        });
    }
    return found;
  }

  addIpExclusions(level: ExclusionLevel, campaignId: string | undefined, values: readonly string[]) {
    const customer = digits(this.customerId);
    if (level === 'account') {
      return outcomesOf(values, () =>
        this.customer.customerNegativeCriteria.create(
          values.map((ip) => ({ ip_block: { ip_address: ip } })),
          { partial_failure: true },
        ),
      );
    }
    const campaign = `customers/${customer}/campaigns/${digits(campaignId ?? '')}`;
    return outcomesOf(values, () =>
      this.customer.campaignCriteria.create(
        values.map((ip) => ({ campaign, negative: true, ip_block: { ip_address: ip } })),
        { partial_failure: true },
      ),
    );
  }

  async listPlacementExclusions(): Promise<{ value: string; resourceName: string }[]> {
    const rows = (await this.customer.query(ACCOUNT_PLACEMENTS_QUERY)) as AccountPlacementRow[];
    return rows.flatMap((row) => {
      const c = row.customer_negative_criterion;
      return c?.resource_name && c.placement?.url ? [{ value: c.placement.url, resourceName: c.resource_name }] : [];
    });
  }

  addPlacementExclusions(values: readonly string[]) {
    return outcomesOf(values, () =>
      this.customer.customerNegativeCriteria.create(
        values.map((url) => ({ placement: { url } })),
        { partial_failure: true },
      ),
    );
  }

  removeIpExclusions(level: ExclusionLevel, entries: readonly { value: string; resourceName: string }[]) {
    const names = entries.map((e) => e.resourceName);
    const values = entries.map((e) => e.value);
    return outcomesOf(values, () =>
      level === 'account'
        ? this.customer.customerNegativeCriteria.remove(names, { partial_failure: true })
        : this.customer.campaignCriteria.remove(names, { partial_failure: true }),
    );
  }
}
