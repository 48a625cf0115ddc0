import { enums, errors, type Hooks, services } from 'google-ads-api';
import { parseRange } from '../properties/config';
import {
  ACCOUNT_IP_BLOCKS_QUERY,
  ACCOUNT_PLACEMENTS_QUERY,
  CAMPAIGN_IP_BLOCKS_QUERY,
  ENABLED_CAMPAIGNS_QUERY,
} from './adsAccount';
import { MAX_IP_EXCLUSIONS_PER_ACCOUNT, MAX_IP_EXCLUSIONS_PER_CAMPAIGN } from './selection';

const CAMPAIGN_METHOD = 'CampaignCriterionService.mutateCampaignCriteria';
const ACCOUNT_METHOD = 'CustomerNegativeCriterionService.mutateCustomerNegativeCriteria';

/** One call the real google-ads-api Customer made, as it built it (gRPC request object or GAQL text). */
type RecordedCall =
  | { readonly kind: 'query'; readonly query: string }
  | { readonly kind: 'mutate'; readonly method: string; readonly request: RecordedMutateRequest };

interface RecordedOperation {
  readonly create?: {
    campaign?: string;
    negative?: boolean;
    ip_block?: { ip_address?: string };
    placement?: { url?: string };
  };
  readonly remove?: string;
}
interface RecordedMutateRequest {
  readonly customer_id: string;
  readonly operations: readonly RecordedOperation[];
  readonly partial_failure?: boolean;
}

/** A fault to inject: the next `times` calls of `method` fail as a whole with this Google error. */
interface InjectedFault {
  readonly method: typeof CAMPAIGN_METHOD | typeof ACCOUNT_METHOD;
  readonly times: number;
  readonly error: 'quota' | 'internal';
}

interface Criterion {
  readonly resourceName: string;
  /** The address/range, or the placement URL. */
  readonly ip: string;
  readonly campaignId?: string;
  readonly placement?: true;
}

const failureAt = (index: number, error_code: errors.IErrorCode, message: string, details?: errors.IErrorDetails) =>
  new errors.GoogleAdsError({
    error_code,
    message,
    location: { field_path_elements: [{ field_name: 'operations', index }] },
    details,
  });

/**
 * Google Ads as seen through google-ads-api's own Customer, without a network: the client's hooks
 * (onQueryStart / onMutationStart) receive the exact request objects the library built and answer with
 * the library's response types (GoogleAdsRow objects, Mutate…Response with a decoded `partial_failure_error`,
 * a thrown GoogleAdsFailure for a failed call). It keeps the account's state, so it behaves like the
 * account: the 500 caps per campaign and per account (ResourceCountLimitExceededError with
 * NEGATIVE_IP_BLOCKS_PER_CAMPAIGN), CriterionError INVALID_IP_ADDRESS, RESOURCE_NOT_FOUND on removal,
 * partial failure only when asked for. Tests read `calls`; the local stack uses it as its Google Ads.
 */
export class RecordedGoogleAds {
  readonly calls: RecordedCall[] = [];
  private readonly campaigns = new Map<string, string>();
  private readonly criteria = new Map<string, Criterion>();
  private readonly faults: InjectedFault[] = [];
  private refusal: 'authentication' | 'network' | undefined;
  private nextId = 1;

  constructor(readonly customerId: string) {}

  addCampaign(id: string, channelType: keyof typeof enums.AdvertisingChannelType): this {
    this.campaigns.set(id, channelType);
    return this;
  }

  /** An exclusion the advertiser made by hand (not through clicksieve). */
  addManualExclusion(ip: string, campaignId?: string): string {
    return this.store(ip, campaignId).resourceName;
  }

  addManualPlacementExclusion(url: string): string {
    const criterion = { ...this.criterion(url, undefined), placement: true as const };
    this.criteria.set(criterion.resourceName, criterion);
    return criterion.resourceName;
  }

  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault });
  }

  /**
   * From now on every query and mutate fails as the library fails when the account cannot be used:
   * `authentication` as a GoogleAdsFailure with AuthenticationError OAUTH_TOKEN_REVOKED (a revoked refresh
   * token), `network` as a gRPC UNAVAILABLE error; `undefined` lets calls through again.
   */
  refuse(kind: 'authentication' | 'network' | undefined): void {
    this.refusal = kind;
  }

  private refused(): Error | undefined {
    if (this.refusal === 'authentication')
      return new errors.GoogleAdsFailure({
        errors: [
          {
            error_code: {
              authentication_error: errors.AuthenticationErrorEnum.AuthenticationError.OAUTH_TOKEN_REVOKED,
            },
            message: 'Authentication of the request failed.',
          },
        ],
      }) as unknown as Error;
    if (this.refusal === 'network')
      return Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: 14,
        details: 'No connection established',
      });
    return undefined;
  }

  /** The account's current exclusions: `account`, `placements` or a campaign id → addresses/URLs. */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.criteria.values()) {
      const key = c.placement ? 'placements' : (c.campaignId ?? 'account');
      out[key] = [...(out[key] ?? []), c.ip];
    }
    for (const list of Object.values(out)) list.sort();
    return out;
  }

  mutateCalls(): { method: string; request: RecordedMutateRequest }[] {
    return this.calls.flatMap((call) => (call.kind === 'mutate' ? [call] : []));
  }

  hooks(): Hooks {
    return {
      onQueryStart: ({ query, cancel }) => {
        this.calls.push({ kind: 'query', query });
        const refused = this.refused();
        if (refused) throw refused;
        cancel(this.rows(query));
      },
      onMutationStart: (args) => {
        if (!args.isServiceCall) throw new Error('the recorded transport answers service mutates only');
        const request = args.mutation as RecordedMutateRequest;
        this.calls.push({ kind: 'mutate', method: args.method, request });
        const refused = this.refused();
        if (refused) throw refused;
        args.cancel(this.mutate(args.method, request));
      },
    };
  }

  private rows(query: string): services.IGoogleAdsRow[] {
    if (query === ENABLED_CAMPAIGNS_QUERY) {
      return [...this.campaigns].map(([id, type]) => ({
        campaign: { id: Number(id), advertising_channel_type: enums.AdvertisingChannelType[type as 'SEARCH'] },
      }));
    }
    if (query === CAMPAIGN_IP_BLOCKS_QUERY) {
      return [...this.criteria.values()]
        .filter((c) => c.campaignId !== undefined)
        .map((c) => ({
          campaign: { id: Number(c.campaignId) },
          campaign_criterion: { resource_name: c.resourceName, ip_block: { ip_address: c.ip } },
        }));
    }
    if (query === ACCOUNT_PLACEMENTS_QUERY) {
      return [...this.criteria.values()]
        .filter((c) => c.placement)
        .map((c) => ({ customer_negative_criterion: { resource_name: c.resourceName, placement: { url: c.ip } } }));
    }
    if (query === ACCOUNT_IP_BLOCKS_QUERY) {
      return [...this.criteria.values()]
        .filter((c) => c.campaignId === undefined && !c.placement)
        .map((c) => ({
          customer_negative_criterion: { resource_name: c.resourceName, ip_block: { ip_address: c.ip } },
        }));
    }
    throw new Error(`the recorded transport has no answer for: ${query}`);
  }

  private mutate(method: string, request: RecordedMutateRequest) {
    const fault = this.faults.find((f) => f.method === method && f.times > 0);
    if (fault) {
      (fault as { times: number }).times--;
      throw new errors.GoogleAdsFailure({
        errors: [
          fault.error === 'quota'
            ? { error_code: { quota_error: errors.QuotaErrorEnum.QuotaError.RESOURCE_TEMPORARILY_EXHAUSTED } }
            : { error_code: { internal_error: errors.InternalErrorEnum.InternalError.TRANSIENT_ERROR } },
        ],
      });
    }
    const account = method === ACCOUNT_METHOD;
    if (!account && method !== CAMPAIGN_METHOD) throw new Error(`the recorded transport does not answer ${method}`);
    const failures: errors.GoogleAdsError[] = [];
    const results: (string | undefined)[] = [];
    const staged = new Map(this.criteria);
    request.operations.forEach((operation, index) => {
      const error = this.apply(staged, operation, account);
      if (typeof error === 'string') results.push(error);
      else {
        failures.push(failureAt(index, ...error));
        results.push(undefined);
      }
    });
    if (failures.length > 0 && !request.partial_failure) throw new errors.GoogleAdsFailure({ errors: failures });
    this.criteria.clear();
    for (const [name, c] of staged) this.criteria.set(name, c);
    const Response = account
      ? services.MutateCustomerNegativeCriteriaResponse
      : services.MutateCampaignCriteriaResponse;
    return new Response({
      results: results.map((resource_name) => ({ resource_name: resource_name ?? '' })),
      // What google-ads-api returns after decodePartialFailureError: the GoogleAdsFailure itself.
      partial_failure_error: failures.length > 0 ? (new errors.GoogleAdsFailure({ errors: failures }) as never) : null,
    });
  }

  /** The resource name it created or removed, or the error for this operation. */
  private apply(
    staged: Map<string, Criterion>,
    operation: RecordedOperation,
    account: boolean,
  ): string | [errors.IErrorCode, string, errors.IErrorDetails?] {
    if (operation.remove !== undefined) {
      if (!staged.delete(operation.remove))
        return [{ mutate_error: errors.MutateErrorEnum.MutateError.RESOURCE_NOT_FOUND }, 'Resource was not found.'];
      return operation.remove;
    }
    const url = operation.create?.placement?.url;
    if (account && url !== undefined) {
      if (!/^[a-z0-9.-]+\.[a-z]{2,}(\/\S*)?$/i.test(url))
        return [
          { criterion_error: errors.CriterionErrorEnum.CriterionError.INVALID_PLACEMENT_URL },
          'Invalid placement URL.',
        ];
      const criterion = { ...this.criterion(url, undefined), placement: true as const };
      staged.set(criterion.resourceName, criterion);
      return criterion.resourceName;
    }
    const ip = operation.create?.ip_block?.ip_address ?? '';
    if (!parseRange(ip))
      return [{ criterion_error: errors.CriterionErrorEnum.CriterionError.INVALID_IP_ADDRESS }, 'Invalid IP address.'];
    const campaignId = account ? undefined : /\/campaigns\/(\d+)$/.exec(operation.create?.campaign ?? '')?.[1];
    if (!account) {
      if (!campaignId || !this.campaigns.has(campaignId))
        return [{ mutate_error: errors.MutateErrorEnum.MutateError.RESOURCE_NOT_FOUND }, 'Campaign not found.'];
      if (this.campaigns.get(campaignId) === 'PERFORMANCE_MAX')
        return [
          { criterion_error: errors.CriterionErrorEnum.CriterionError.CANNOT_ADD_CRITERIA_TYPE },
          'Performance Max campaigns take no campaign IP exclusions.',
        ];
    }
    const existing = [...staged.values()].filter((c) => c.campaignId === campaignId && !c.placement);
    const limit = account ? MAX_IP_EXCLUSIONS_PER_ACCOUNT : MAX_IP_EXCLUSIONS_PER_CAMPAIGN;
    if (existing.length >= limit) {
      return [
        {
          resource_count_limit_exceeded_error: account
            ? errors.ResourceCountLimitExceededErrorEnum.ResourceCountLimitExceededError.ACCOUNT_LIMIT
            : errors.ResourceCountLimitExceededErrorEnum.ResourceCountLimitExceededError.CAMPAIGN_LIMIT,
        },
        'Too many IP exclusions.',
        {
          resource_count_details: {
            limit,
            existing_count: existing.length,
            limit_type: account ? undefined : enums.ResourceLimitType.NEGATIVE_IP_BLOCKS_PER_CAMPAIGN,
          },
        },
      ];
    }
    const criterion = this.criterion(ip, campaignId);
    staged.set(criterion.resourceName, criterion);
    return criterion.resourceName;
  }

  private criterion(ip: string, campaignId: string | undefined): Criterion {
    const id = this.nextId++;
    const resourceName =
      campaignId === undefined
        ? `customers/${this.customerId}/customerNegativeCriteria/${id}`
        : `customers/${this.customerId}/campaignCriteria/${campaignId}~${id}`;
    return { resourceName, ip, campaignId };
  }

  private store(ip: string, campaignId: string | undefined): Criterion {
    const criterion = this.criterion(ip, campaignId);
    this.criteria.set(criterion.resourceName, criterion);
    return criterion;
  }
}
