/** What a failed call says about itself; never the request (its body holds keys and visitor data). */
export interface ResponseMetadata {
  readonly httpStatusCode?: number;
  readonly requestId?: string;
  readonly attempts: number;
  readonly totalRetryDelay: number;
}

/**
 * An error answered by an AWS service: `name` is the service's error code (`ConditionalCheckFailedException`,
 * `ThrottlingException`, …), `message` the service's own message, `$metadata.httpStatusCode` its status.
 */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  $metadata: ResponseMetadata;

  constructor(name: string, message: string, metadata: ResponseMetadata) {
    super(message);
    this.name = name;
    this.$fault = (metadata.httpStatusCode ?? 500) >= 500 ? 'server' : 'client';
    this.$metadata = metadata;
  }
}

/**
 * No answer from the service: `TimeoutError` when an attempt outlived its timeout, `NetworkError` when the
 * socket failed (`code` is Node's, e.g. ECONNRESET). The request may or may not have been applied.
 */
export class AwsTransportError extends Error {
  readonly code: string | undefined;
  $metadata: ResponseMetadata;

  constructor(name: 'TimeoutError' | 'NetworkError', message: string, code: string | undefined) {
    super(message);
    this.name = name;
    this.code = code;
    this.$metadata = { attempts: 1, totalRetryDelay: 0 };
  }
}

/** Error codes the SDK's standard retry strategy treats as throttling (longer backoff). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

export type RetryKind = 'throttling' | 'transient' | undefined;

/** Whether the SDK's standard retry strategy would retry this error, and with which backoff. */
export function retryKindOf(error: unknown): RetryKind {
  if (error instanceof AwsTransportError) return 'transient';
  if (!(error instanceof AwsServiceError)) return undefined;
  if (THROTTLING.has(error.name) || error.$metadata.httpStatusCode === 429) return 'throttling';
  if (TRANSIENT_CODES.has(error.name) || TRANSIENT_STATUS.has(error.$metadata.httpStatusCode ?? 0)) return 'transient';
  return undefined;
}

/** A JSON-protocol error body; {} for a proxy's HTML or an empty body (the status then says enough). */
export function errorBodyOf(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → `ConditionalCheckFailedException`. */
export function errorCodeOf(
  response: { readonly status: number; readonly headers: Readonly<Record<string, unknown>> },
  body: Record<string, unknown>,
): string {
  const header = response.headers['x-amzn-errortype'];
  const raw = typeof body.__type === 'string' ? body.__type : typeof header === 'string' ? header : '';
  const code = raw.split('#').pop()!.split(':')[0]!;
  return code || (response.status >= 500 ? 'InternalServerError' : 'UnknownError');
}
