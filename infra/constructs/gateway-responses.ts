import { ResponseType, type RestApiBase } from 'aws-cdk-lib/aws-apigateway';
import type { ErrorCode } from '../../shared/http/errors';

interface ContractResponse {
  readonly type: ResponseType;
  /** Omitted: keep the status API Gateway chose (DEFAULT_4XX / DEFAULT_5XX cover several). */
  readonly status?: '400' | '401' | '402' | '403' | '404' | '413' | '415' | '429' | '500';
  readonly code: ErrorCode;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What API Gateway answers by itself (before or instead of a Lambda) rewritten into the contract's
 * error body, with fixed messages so nothing about the gateway's internals reaches the caller.
 */
const CONTRACT_RESPONSES: readonly ContractResponse[] = [
  { type: ResponseType.UNAUTHORIZED, status: '401', code: 'UNAUTHORIZED', message: 'missing or invalid credential' },
  { type: ResponseType.INVALID_API_KEY, status: '401', code: 'UNAUTHORIZED', message: 'missing or invalid credential' },
  {
    type: ResponseType.ACCESS_DENIED,
    status: '403',
    code: 'FORBIDDEN',
    message: 'this credential may not access that resource',
  },
  // API Gateway answers an unknown path or method with MISSING_AUTHENTICATION_TOKEN.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '404', code: 'NOT_FOUND', message: 'not found' },
  {
    type: ResponseType.THROTTLED,
    status: '429',
    code: 'RATE_LIMITED',
    message: 'rate limit exceeded',
    // The usage plan's token bucket refills every second.
    headers: { 'Retry-After': '1' },
  },
  { type: ResponseType.QUOTA_EXCEEDED, status: '402', code: 'PAYMENT_REQUIRED', message: 'monthly allowance used up' },
  { type: ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'PAYLOAD_TOO_LARGE', message: 'body too large' },
  {
    type: ResponseType.UNSUPPORTED_MEDIA_TYPE,
    status: '415',
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'content-type must be application/json',
  },
  { type: ResponseType.BAD_REQUEST_BODY, status: '400', code: 'INVALID_REQUEST', message: 'invalid request body' },
  {
    type: ResponseType.BAD_REQUEST_PARAMETERS,
    status: '400',
    code: 'INVALID_REQUEST',
    message: 'invalid request parameters',
  },
  { type: ResponseType.DEFAULT_4XX, code: 'INVALID_REQUEST', message: 'request rejected' },
  { type: ResponseType.DEFAULT_5XX, code: 'SERVER_ERROR', message: 'internal error' },
];

/** Browsers must be able to read these errors from landing pages, like the Lambda's own responses. */
const COMMON_HEADERS = { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' };

export function addContractGatewayResponses(api: RestApiBase): void {
  for (const response of CONTRACT_RESPONSES) {
    const headers = { ...COMMON_HEADERS, ...response.headers };
    api.addGatewayResponse(response.type.responseType, {
      type: response.type,
      statusCode: response.status,
      // Gateway response header values are mapping expressions: static values are single-quoted.
      responseHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `'${value}'`])),
      templates: {
        'application/json': JSON.stringify({ error: response.message, code: response.code, details: {} }),
      },
    });
  }
}
