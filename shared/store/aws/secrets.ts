import { AwsServiceError, errorBodyOf, errorCodeOf, type ResponseMetadata } from './errors';
import { AwsWire, type WireOptions, type WireResponse } from './wire';

/**
 * Secrets Manager's GetSecretValue on our own wire (awsJson 1.1), cached per secret for `maxAge` seconds:
 * the click path reads the token signing master key through it without the SDK. Same call shape as
 * Powertools' `getSecret(name, { maxAge })` for string secrets.
 */

/** Any Secrets Manager error; `name` is the service's code (`ResourceNotFoundException`, `AccessDeniedException`, …). */
export class SecretsManagerServiceException extends AwsServiceError {}

export class SecretsManagerClient {
  private readonly wire: AwsWire;

  constructor(options: WireOptions = {}) {
    this.wire = new AwsWire('secretsmanager', options);
  }

  /** The secret's current string value (undefined for a binary secret). */
  async getSecretString(secretId: string): Promise<string | undefined> {
    const response = await this.wire.call(
      {
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
        body: JSON.stringify({ SecretId: secretId }),
      },
      readSecretsError,
    );
    const { SecretString } = JSON.parse(response.body.toString('utf8')) as { SecretString?: string };
    return SecretString;
  }
}

function readSecretsError(response: WireResponse, metadata: ResponseMetadata): SecretsManagerServiceException {
  const body = errorBodyOf(response.body);
  const message = String(body.message ?? body.Message ?? `Secrets Manager answered ${response.status}`);
  return new SecretsManagerServiceException(errorCodeOf(response, body), message, metadata);
}

interface Cached {
  readonly value: Promise<string | undefined>;
  readonly until: number;
}

let defaultClient: SecretsManagerClient | undefined;
const cache = new Map<string, Cached>();

/**
 * A string secret, fetched at most once per `maxAge` seconds per container (default 5 s, as Powertools);
 * concurrent callers share one request, and a failed fetch is not cached.
 */
export function getSecret(
  secretId: string,
  options: { maxAge?: number; client?: SecretsManagerClient; now?: () => number } = {},
): Promise<string | undefined> {
  const now = options.now?.() ?? Date.now();
  const cached = cache.get(secretId);
  if (cached && cached.until > now) return cached.value;
  defaultClient ??= new SecretsManagerClient();
  const value = (options.client ?? defaultClient).getSecretString(secretId);
  cache.set(secretId, { value, until: now + (options.maxAge ?? 5) * 1000 });
  value.catch(() => {
    if (cache.get(secretId)?.value === value) cache.delete(secretId);
  });
  return value;
}
