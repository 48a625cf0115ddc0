import { ApiError, conflict } from '../http/errors';
import { GoogleAdsSecretError } from './credentials';

/**
 * Why the linked Google Ads account could not be used. Derived from the error's type and codes only,
 * never from its message (a library message may quote a request, a token or the secret's text).
 */
export type AccountProblem =
  | 'credentials_not_configured'
  | 'credentials_unreadable'
  | 'authentication_failed'
  | 'unreachable';

const DESCRIPTIONS: Record<AccountProblem, string> = {
  credentials_not_configured:
    'the deployment has no Google Ads credentials yet (the operator fills in the Google Ads secret)',
  credentials_unreadable: 'the Google Ads credentials could not be read or are incomplete',
  authentication_failed:
    'Google Ads refused the credentials for this account (refresh token revoked or expired, developer token ' +
    'not approved, or no access to the customer id)',
  unreachable: 'Google Ads could not be reached',
};

export const describeAccountProblem = (problem: AccountProblem) => DESCRIPTIONS[problem];

/** The account cannot be used now; the message is safe to log and to show. */
export class AdAccountUnavailable extends Error {
  override readonly name = 'AdAccountUnavailable';
  constructor(readonly problem: AccountProblem) {
    super(DESCRIPTIONS[problem]);
  }
}

/** Google Ads error families that mean "these credentials may not act on this account". */
const AUTH_FAMILIES = new Set(['authentication_error', 'authorization_error']);
/** gRPC UNAUTHENTICATED and PERMISSION_DENIED. */
const AUTH_GRPC_CODES = new Set([16, 7]);
/** What Google's OAuth token endpoint answers for a refresh token or client it will not honour. */
const AUTH_OAUTH_ERRORS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client']);

interface ErrorShape {
  readonly errors?: readonly { readonly error_code?: Record<string, unknown> | null }[] | null;
  readonly code?: unknown;
  readonly response?: { readonly data?: { readonly error?: unknown } | null } | null;
}

/**
 * What went wrong reaching the account: a GoogleAdsFailure with an authentication or authorization error,
 * a gRPC UNAUTHENTICATED/PERMISSION_DENIED, or the OAuth endpoint refusing the refresh token is
 * `authentication_failed`; an unusable secret is `credentials_unreadable`; anything else (DNS, TLS, timeouts,
 * gRPC UNAVAILABLE) is `unreachable`.
 */
export function accountProblemOf(error: unknown): AccountProblem {
  if (error instanceof AdAccountUnavailable) return error.problem;
  if (error instanceof GoogleAdsSecretError) return 'credentials_unreadable';
  if (typeof error !== 'object' || error === null) return 'unreachable';
  const shape = error as ErrorShape;
  const families = (shape.errors ?? []).flatMap((e) =>
    Object.entries(e.error_code ?? {}).flatMap(([family, value]) =>
      value === null || value === undefined ? [] : [family],
    ),
  );
  if (families.some((family) => AUTH_FAMILIES.has(family))) return 'authentication_failed';
  if (typeof shape.code === 'number' && AUTH_GRPC_CODES.has(shape.code)) return 'authentication_failed';
  const oauth = shape.response?.data?.error;
  if (typeof oauth === 'string' && AUTH_OAUTH_ERRORS.has(oauth)) return 'authentication_failed';
  return 'unreachable';
}

/** 502 for a push that could not reach the linked account: `details.reason` says why, nothing of the cause leaks. */
export const adAccountUnreachable = (problem: AccountProblem, details: Record<string, unknown> = {}) =>
  new ApiError(
    502,
    'AD_ACCOUNT_UNREACHABLE',
    `the linked Google Ads account could not be used: ${DESCRIPTIONS[problem]}; nothing was changed`,
    { provider: 'google_ads', reason: problem, ...details },
  );

/** 409 for a push asked of a property whose link does not allow one. */
export const noUsableLink = (mode: 'not_linked' | 'link_disabled') =>
  conflict(
    mode === 'not_linked'
      ? 'no ad account is linked to this property (the operator links one); GET …/exclusions/plan shows what would be excluded'
      : 'the ad account link of this property is disabled; GET …/exclusions/plan shows what would be excluded',
    { reason: mode },
  );
