import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { authenticate, type Principal } from '../auth/principal';
import { logger } from '../observability';
import { browserRequestHeaders, type RouteDef } from '../routes';
import { MAX_BODY_BYTES } from './bodyLimit';
import { ApiError, invalidRequest, payloadTooLarge, serverError, unsupportedMediaType } from './errors';
import {
  knownRateState,
  type MeteredError,
  meterRequest,
  type RateLimitState,
  rateLimitHeaders,
  refuseAddress,
} from './rateLimit';

export { MAX_BODY_BYTES };

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

interface ApiRequest<R extends RouteDef> {
  readonly body: Infer<R['body']>;
  readonly query: Infer<R['query']>;
  readonly params: Infer<R['params']>;
  /** Undefined only on routes without auth. */
  readonly principal: R['auth'] extends readonly [] ? undefined : Principal;
  /** The caller's address as API Gateway saw it. */
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly requestId: string;
  readonly receivedAt: number;
}

interface ApiResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** A non-JSON body (CSV): sent as-is with this content type. */
  readonly text?: { readonly contentType: string; readonly body: string };
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': browserRequestHeaders.join(','),
  'Access-Control-Allow-Methods': 'GET,POST,PUT,OPTIONS',
};

/** At most this many fields are named in a 400, each name at most this long: bodies are not echoed back. */
const MAX_FIELDS = 20;
const MAX_FIELD_NAME = 64;
const MAX_MESSAGE = 200;

/** What the contract middleware learned before the handler ran; read again by `onError`. */
interface Parsed {
  headers: Record<string, string | undefined>;
  json: unknown;
  rate?: RateLimitState;
}
const parsedByEvent = new WeakMap<APIGatewayProxyEvent, Parsed>();

/**
 * The HTTP contract as middy middleware, in the shape of middy's own: `before` checks size (413),
 * content type (415) and JSON (400); `onError` turns anything thrown into the contract's error body —
 * ApiErrors as they are, everything else as a bare 500 — with the rate headers once the caller was metered.
 */
const httpContract = (
  route: RouteDef,
  takesBody: boolean,
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => {
  const httpContractBefore = async (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>) => {
    const headers = lowerCaseHeaders(request.event.headers);
    const parsed: Parsed = { headers, json: undefined };
    parsedByEvent.set(request.event, parsed);
    const raw = decodeBody(request.event);
    parsed.json = takesBody ? parseJsonBody(route, headers, raw) : undefined;
  };
  const httpContractOnError = async (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>) => {
    const error = request.error as MeteredError | null;
    const rate = error?.rate ?? parsedByEvent.get(request.event)?.rate;
    request.response = errorResponse(route, error, request.event, rate);
  };
  return { before: httpContractBefore, onError: httpContractOnError };
};

/**
 * Wraps a route's handler in the contract: the checks of `httpContract`, authentication for the
 * route's credential kinds, the per-address limit of public-key calls, zod validation of body, query
 * and path (400 naming the fields), then the rate meter, and one error mapping for every failure.
 * Nothing refused before the meter spends the plan's minute budget or monthly allowance (X-RateLimit-*
 * then report the last state this instance metered). Validation runs after authentication, so an
 * unauthenticated caller learns nothing about the schema.
 */
export function apiHandler<R extends RouteDef>(route: R, handle: (request: ApiRequest<R>) => Promise<ApiResult>) {
  // The route's own schemas, built now (module load): the route table builds no other route's (shared/routes.ts).
  const { body: bodySchema, query: querySchema, params: paramsSchema } = route;
  const core = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const receivedAt = Date.now();
    const parsed = parsedByEvent.get(event) ?? { headers: lowerCaseHeaders(event.headers), json: undefined };
    const { headers, json } = parsed;
    const sourceIp = event.requestContext?.identity?.sourceIp ?? '0.0.0.0';
    const principal =
      route.auth.length === 0
        ? undefined
        : await authenticate({
            route,
            headers,
            query: event.queryStringParameters ?? {},
            pathParameters: event.pathParameters,
            bodyTrackingKey: trackingKeyOf(json),
            authorizer: event.requestContext?.authorizer ?? undefined,
            sourceIp,
          });
    // Refuse before counting: the source address's limit (memory), then validation, then one metered write.
    if (principal) {
      refuseAddress(principal, route, sourceIp, receivedAt);
      parsed.rate = knownRateState(principal, receivedAt);
    }
    const body = bodySchema ? validate(bodySchema, json, 'body') : undefined;
    const query = querySchema ? validate(querySchema, event.queryStringParameters ?? {}, 'query') : undefined;
    const params = paramsSchema ? validate(paramsSchema, event.pathParameters ?? {}, 'path') : undefined;
    if (principal) parsed.rate = await meterRequest(principal, route, receivedAt);
    const request = {
      body,
      query,
      params,
      principal,
      sourceIp,
      userAgent: headers['user-agent'],
      headers,
      requestId: context?.awsRequestId ?? event.requestContext?.requestId ?? 'local',
      receivedAt,
    } as ApiRequest<R>;
    return toResponse(route, await handle(request), parsed.rate);
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger))
    .use(httpContract(route, bodySchema !== undefined))
    .handler(core);
}

/** The contract's error body for anything thrown; only ApiErrors below 500 say what went wrong. */
export function errorResponse(
  route: Pick<RouteDef, 'browser'>,
  error: unknown,
  event?: APIGatewayProxyEvent,
  rate?: RateLimitState,
): APIGatewayProxyResult {
  const apiError = error instanceof ApiError && error.statusCode < 500 ? error : undefined;
  const shown = apiError ?? (error instanceof ApiError ? error : serverError());
  if (!apiError) {
    // Name and stack frames only: an SDK message can quote keys or values of the request.
    logger.error('request failed', {
      path: event?.resource ?? event?.path,
      requestId: event?.requestContext?.requestId,
      error: error instanceof Error ? { name: error.name, frames: error.stack?.split('\n').slice(1, 8) } : typeof error,
    });
  }
  const meteredRate = rate ?? (error as MeteredError | undefined)?.rate;
  return {
    statusCode: shown.statusCode,
    headers: {
      'Content-Type': 'application/json',
      ...(route.browser ? CORS_HEADERS : {}),
      ...(meteredRate ? rateLimitHeaders(meteredRate) : {}),
      ...shown.headers,
    },
    body: JSON.stringify(shown.toBody()),
  };
}

function toResponse(route: RouteDef, result: ApiResult, rate: RateLimitState | undefined): APIGatewayProxyResult {
  const status = result.status ?? route.success.status;
  const headers: Record<string, string> = {
    ...(route.browser ? CORS_HEADERS : {}),
    ...(rate ? rateLimitHeaders(rate) : {}),
    ...result.headers,
  };
  if (result.text) {
    return {
      statusCode: status,
      headers: { 'Content-Type': result.text.contentType, ...headers },
      body: result.text.body,
    };
  }
  if (status === 204 || result.body === undefined) return { statusCode: status, headers, body: '' };
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(result.body),
  };
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null);
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function decodeBody(event: APIGatewayProxyEvent): Buffer | undefined {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  // Measured before decoding too, so a huge base64 body is refused without decoding it.
  if (event.body.length > MAX_BODY_BYTES * 2) throw payloadTooLarge(MAX_BODY_BYTES);
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  return bytes;
}

/** Strict: bytes that are not UTF-8 are refused rather than stored as U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonBody(
  route: RouteDef,
  headers: Record<string, string | undefined>,
  bytes: Buffer | undefined,
): unknown {
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const acceptsText = route.textPlainBody === true && mediaType === 'text/plain';
  if (bytes === undefined && mediaType === '') return {};
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json') && !acceptsText) {
    throw unsupportedMediaType(route.textPlainBody ? 'application/json or text/plain' : 'application/json');
  }
  if (bytes === undefined) return {};
  let raw: string;
  try {
    raw = utf8.decode(bytes);
  } catch {
    throw invalidRequest('body is not valid UTF-8', { in: 'body' });
  }
  try {
    // The reviver drops keys that could pollute prototypes further down the line.
    return JSON.parse(raw, (key, value) =>
      key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value,
    );
  } catch {
    throw invalidRequest('body is not valid JSON', { in: 'body' });
  }
}

/** Validates with zod; the 400 names fields (truncated) with zod's messages, which never quote the input. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query' | 'path',
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    if (Object.keys(fields).length >= MAX_FIELDS) break;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, MAX_FIELDS)) fields[fieldName([...path, key], where)] ??= 'unknown field';
      continue;
    }
    fields[fieldName(path, where)] ??= issue.message.slice(0, MAX_MESSAGE);
  }
  throw invalidRequest(`invalid ${where}: ${Object.keys(fields).join(', ')}`, { in: where, fields });
}

function fieldName(path: string[], where: string): string {
  if (path.length === 0) return where;
  const name = path.join('.');
  return name.length > MAX_FIELD_NAME ? `${name.slice(0, MAX_FIELD_NAME)}…` : name;
}

function trackingKeyOf(json: unknown): string | undefined {
  if (json && typeof json === 'object' && 'tracking_key' in json) {
    const key = (json as { tracking_key: unknown }).tracking_key;
    return typeof key === 'string' ? key : undefined;
  }
  return undefined;
}
