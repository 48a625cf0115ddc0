import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';

/** Fields the operator must fill in; the stack creates the secret with all of them empty. */
export const REQUIRED_GOOGLE_ADS_FIELDS = ['developer_token', 'client_id', 'client_secret', 'refresh_token'] as const;

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

/** A per-property secret: `{"refresh_token":"…"}` for an account the deployment's manager account does not own. */
const PropertyRefreshToken = z.object({ refresh_token: z.string().min(1) });

/**
 * The property's own refresh token, or undefined when the operator stored none (the deployment's token then
 * applies). `read` returns the secret's string, or undefined when no such secret exists.
 */
export async function propertyRefreshToken(
  read: (name: string) => Promise<string | undefined>,
  prefix: string | undefined,
  propertyId: string,
): Promise<string | undefined> {
  if (!prefix) return undefined;
  const raw = await read(`${prefix}${propertyId}`);
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new GoogleAdsSecretError(`the refresh-token secret of ${propertyId} is not valid JSON`);
  }
  const parsed = PropertyRefreshToken.safeParse(value);
  if (!parsed.success) throw new GoogleAdsSecretError(`the refresh-token secret of ${propertyId} has no refresh_token`);
  return parsed.data.refresh_token;
}

/** Secrets Manager by name, five-minute cache; a secret that does not exist reads as undefined. */
export async function readOptionalSecret(name: string): Promise<string | undefined> {
  try {
    const value = await getSecret(name, { maxAge: 300 });
    return typeof value === 'string' ? value : undefined;
  } catch (error) {
    // Powertools wraps the SDK's error: the missing secret is its cause.
    if (error instanceof ResourceNotFoundException || (error as Error).cause instanceof ResourceNotFoundException)
      return undefined;
    throw error;
  }
}
