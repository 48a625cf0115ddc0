import * as z from 'zod';
import { getSecret } from '../store/aws/secrets';

/** Fields the operator must fill in; the stack creates the secret with all of them empty. */
const REQUIRED_GOOGLE_ADS_FIELDS = ['developer_token', 'client_id', 'client_secret', 'refresh_token'] as const;

const CUSTOMER_ID = /^\d{3}-?\d{3}-?\d{4}$/;

/** The Secrets Manager secret (ENV.googleAdsSecretArn): OAuth client, developer token, refresh token, manager id. */
export const GoogleAdsCredentials = z.object({
  developer_token: z.string().min(1),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
  /** The manager account the calls go through, when the property's link names none. Empty means none. */
  login_customer_id: z
    .string()
    .refine((id) => id === '' || CUSTOMER_ID.test(id), 'must be a 10-digit customer id')
    .transform((id) => (id === '' ? undefined : id))
    .optional(),
  /**
   * Refresh tokens of properties whose Google Ads account the manager account does not own (an agency linking
   * a client's account with the client's own authorization), by property id. Absent: `refresh_token` applies.
   */
  property_refresh_tokens: z.record(z.string().regex(/^prop_[A-Za-z0-9_-]+$/), z.string().min(1)).optional(),
});
export type GoogleAdsCredentials = z.output<typeof GoogleAdsCredentials>;

/**
 * The secret is there but unusable. Its message names fields only, never their values, so it can be
 * logged as it is.
 */
export class GoogleAdsSecretError extends Error {
  override readonly name = 'GoogleAdsSecretError';
}

/**
 * Undefined while the operator has not filled the secret in (every required field empty or absent);
 * the credentials once they are all there; GoogleAdsSecretError for anything in between.
 */
export function parseGoogleAdsSecret(raw: unknown): GoogleAdsCredentials | undefined {
  if (typeof raw !== 'string') throw new GoogleAdsSecretError('the Google Ads secret is not a JSON string');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the text it choked on: it must not reach a log.
    throw new GoogleAdsSecretError('the Google Ads secret is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GoogleAdsSecretError('the Google Ads secret is not a JSON object');
  }
  const fields = value as Record<string, unknown>;
  if (REQUIRED_GOOGLE_ADS_FIELDS.every((field) => fields[field] === undefined || fields[field] === '')) {
    return undefined;
  }
  const parsed = GoogleAdsCredentials.safeParse(fields);
  if (!parsed.success) {
    const named = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))].sort();
    throw new GoogleAdsSecretError(`the Google Ads secret is incomplete or invalid: ${named.join(', ')}`);
  }
  return parsed.data;
}

/** Cached for five minutes, so an operator's update is picked up without a redeploy. */
export async function loadGoogleAdsCredentials(secretArn: string): Promise<GoogleAdsCredentials | undefined> {
  return parseGoogleAdsSecret(await getSecret(secretArn, { maxAge: 300 }));
}
