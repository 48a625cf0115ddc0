import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { authenticate, type Principal } from '../auth/principal';
import { logger } from '../observability';
import type { RouteDef } from '../routes';
import { ApiError, invalidRequest, payloadTooLarge, serverError, unsupportedMediaType } from './errors';
import { type RateLimitState, meterRequest, rateLimitHeaders } from './rateLimit';

/** Largest accepted body (../API.md: 32 KiB, else 413). */
export const MAX_BODY_BYTES = 32 * 1024;

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ApiRequest<R extends RouteDef> {
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

export interface ApiResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** A non-JSON body (CSV): sent as-is with this content type. */
  readonly text?: { readonly contentType: string; readonly body: string };
}

interface ContractInternal extends Record<string, unknown> {
  rate?: RateLimitState;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'content-type,x-api-key,x-app-key,x-app-secret,authorization',
  'Access-Control-Allow-Methods': 'GET,POST,PUT,OPTIONS',
};

/**
 * Wraps a route's handler in the contract: size, content type and JSON checks, zod validation of
 * body/query/params (400 naming the fields), authentication for the route's credential kinds,
 * the per-minute rate meter with X-RateLimit-* headers, and one error mapping for every failure.
 */
export function apiHandler<R extends RouteDef>(route: R, handle: (request: ApiRequest<R>) => Promise<ApiResult>) {
  const core = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const receivedAt = Date.now();
    const headers = lowerCaseHeaders(event.headers);
    const rawBody = decodeBody(event);
    const json = route.body ? parseJsonBody(route, headers, rawBody) : undefined;
    const body = route.body ? validate(route.body, json, 'body') : undefined;
    const query = route.query ? validate(route.query, event.queryStringParameters ?? {}, 'query') : undefined;
    const params = route.params ? validate(route.params, event.pathParameters ?? {}, 'path') : undefined;
    const sourceIp = event.requestContext?.identity?.sourceIp ?? '0.0.0.0';
    const principal =
      route.auth.length === 0
        ? undefined
        : await authenticate({
            route,
            headers,
            query: event.queryStringParameters ?? {},
            bodyTrackingKey: trackingKeyOf(json),
            authorizer: event.requestContext?.authorizer ?? undefined,
            sourceIp,
          });
    const rate = principal ? await meterRequest(principal, route, sourceIp, receivedAt) : undefined;
    const request = {
      body,
      query,
      params,
      principal,
      sourceIp,
      userAgent: headers['user-agent'],
      headers,
      requestId: context.awsRequestId ?? event.requestContext?.requestId ?? 'local',
      receivedAt,
    } as ApiRequest<R>;
    const result = await handle(request);
    return toResponse(route, result, rate);
  };

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 }).handler(async (event, context) => {
    try {
      return await core(event, context);
    } catch (error) {
      return errorResponse(route, error, event);
    }
  });
}

export function errorResponse(route: Pick<RouteDef, 'browser'>, error: unknown, event?: APIGatewayProxyEvent) {
  const apiError = error instanceof ApiError ? error : serverError();
  if (!(error instanceof ApiError) || apiError.statusCode >= 500) {
    logger.error('request failed', {
      path: event?.resource ?? event?.path,
      requestId: event?.requestContext?.requestId,
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
  }
  const rate = error instanceof ApiError ? (error as ApiError & { rate?: RateLimitState }).rate : undefined;
  return {
    statusCode: apiError.statusCode,
    headers: {
      'Content-Type': 'application/json',
      ...(route.browser ? CORS_HEADERS : {}),
      ...(rate ? rateLimitHeaders(rate) : {}),
      ...apiError.headers,
    },
    body: JSON.stringify(apiError.toBody()),
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
    return { statusCode: status, headers: { 'Content-Type': result.text.contentType, ...headers }, body: result.text.body };
  }
  if (status === 204 || result.body === undefined) return { statusCode: status, headers, body: '' };
  return { statusCode: status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(result.body) };
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = Object.create(null);
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function decodeBody(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  return text;
}

function parseJsonBody(route: RouteDef, headers: Record<string, string | undefined>, raw: string | undefined): unknown {
  const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const acceptsText = route.textPlainBody === true && mediaType === 'text/plain';
  if (raw === undefined && mediaType === '') return {};
  if (mediaType !== 'application/json' && !mediaType.endsWith('+json') && !acceptsText) {
    throw unsupportedMediaType(route.textPlainBody ? 'application/json or text/plain' : 'application/json');
  }
  if (raw === undefined) return {};
  try {
    // The reviver drops keys that could pollute prototypes further down the line.
    return JSON.parse(raw, (key, value) =>
      key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value,
    );
  } catch {
    throw invalidRequest('body is not valid JSON');
  }
}

function validate<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const name = issue.path.length > 0 ? issue.path.map(String).join('.') : where;
    fields[name] ??= issue.message;
  }
  throw invalidRequest(`invalid ${where}: ${Object.keys(fields).join(', ')}`, { in: where, fields });
}

function trackingKeyOf(json: unknown): string | undefined {
  if (json && typeof json === 'object' && 'tracking_key' in json) {
    const key = (json as { tracking_key: unknown }).tracking_key;
    return typeof key === 'string' ? key : undefined;
  }
  return undefined;
}
