/**
 * Typed errors of the HTTP contract (../API.md "Conventions"). Anything thrown that is not an
 * ApiError becomes a 500 SERVER_ERROR with a generic message: nothing of it reaches the caller.
 */
export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'PAYMENT_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'SERVER_ERROR'
  | 'NOT_IMPLEMENTED'
  /** 502: the linked ad account could not be used (shared/googleAds/accountAccess.ts). */
  | 'AD_ACCOUNT_UNREACHABLE';

interface ErrorBody {
  error: string;
  code: ErrorCode;
  details: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: this.message, code: this.code, details: this.details };
  }
}

export const invalidRequest = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, 'INVALID_REQUEST', message, details);
export const unauthorized = (message = 'missing or invalid credential') => new ApiError(401, 'UNAUTHORIZED', message);
export const paymentRequired = (message = 'monthly allowance used up') =>
  new ApiError(402, 'PAYMENT_REQUIRED', message);
export const forbidden = (message = 'this credential may not access that resource') =>
  new ApiError(403, 'FORBIDDEN', message);
export const notFound = (message = 'not found') => new ApiError(404, 'NOT_FOUND', message);
export const methodNotAllowed = (allowed: string[]) =>
  new ApiError(405, 'METHOD_NOT_ALLOWED', 'method not allowed', { allowed }, { Allow: allowed.join(', ') });
export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(409, 'CONFLICT', message, details);
export const payloadTooLarge = (limitBytes: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `body larger than ${limitBytes} bytes`, { limitBytes });
export const unsupportedMediaType = (expected: string) =>
  new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `content-type must be ${expected}`, { expected });
export const rateLimited = (retryAfterSeconds: number, details: Record<string, unknown> = {}) =>
  new ApiError(429, 'RATE_LIMITED', 'rate limit exceeded', details, { 'Retry-After': String(retryAfterSeconds) });
export const notImplemented = (what: string) => new ApiError(501, 'NOT_IMPLEMENTED', `${what} is not implemented yet`);
export const serverError = () => new ApiError(500, 'SERVER_ERROR', 'internal error');
