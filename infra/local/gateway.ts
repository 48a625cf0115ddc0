import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { DEFERRED_USAGE_KEY } from '../../shared/auth/principal';
import { errorResponse, MAX_BODY_BYTES } from '../../shared/http/apiHandler';
import {
  ApiError,
  forbidden,
  methodNotAllowed,
  notFound,
  notImplemented,
  payloadTooLarge,
  paymentRequired,
  rateLimited,
  serverError,
  unauthorized,
} from '../../shared/http/errors';
import { browserRequestHeaders, type RouteDef, type RouteId, routes, usesUsagePlan } from '../../shared/routes';
import { isDashboardPath, serveDashboard } from './dashboard';
import { HandlerMissingError, handlerExists, invoke, loadHandler } from './lambda';
import { UsagePlans } from './usagePlans';

/**
 * The local API Gateway: the route table of shared/routes.ts served by node:http on 127.0.0.1, each
 * request turned into the REST (v1) proxy event the stack's Lambda functions get, after the same
 * Lambda authorizer and usage-plan checks. Errors of its own use the contract's error body.
 */
const AUTHORIZER_HANDLER = 'functions/api/authorizer.ts';
const STAGE = 'v1';
const ACCOUNT = '000000000000';
const API_ID = 'local';
/** API Gateway's integration timeout. */
const HANDLER_TIMEOUT_MS = 29_000;
const AUTHORIZER_TIMEOUT_MS = 10_000;

interface LocalApiOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Merged into process.env before any handler is loaded (handlers read their configuration there). */
  readonly env?: Record<string, string>;
  /** Monthly quota counts are kept in `usage.json` here. */
  readonly dataDir?: string;
  /** Take the client address from X-Forwarded-For (default: CLICKSIEVE_TRUST_PROXY=1). */
  readonly trustProxy?: boolean;
  /** One line per request (method, path, status, duration). */
  readonly onAccess?: (line: string) => void;
}

export interface LocalApi {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

interface CompiledRoute {
  readonly id: RouteId;
  readonly def: RouteDef;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
}

/** Route paths in the order API Gateway prefers them: literal segments before `{param}` ones. */
const compiled: readonly CompiledRoute[] = (Object.entries(routes) as [RouteId, RouteDef][])
  .map(([id, def]) => {
    const paramNames: string[] = [];
    const source = def.path
      .split('/')
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        paramNames.push(param[1]!);
        return '([^/]+)';
      })
      .join('/');
    return { id, def, pattern: new RegExp(`^${source}$`), paramNames };
  })
  .sort((a, b) => a.paramNames.length - b.paramNames.length);

/** The routes whose path matches: the most literal path wins, each of its methods once. */
function matchPath(pathname: string): { routes: CompiledRoute[]; params: Record<string, string> } | undefined {
  const first = compiled.find((route) => route.pattern.test(pathname));
  if (!first) return undefined;
  const match = first.pattern.exec(pathname)!;
  const params: Record<string, string> = {};
  first.paramNames.forEach((name, i) => {
    params[name] = safeDecode(match[i + 1]!);
  });
  return { routes: compiled.filter((route) => route.def.path === first.def.path), params };
}

export async function startLocalApi(options: LocalApiOptions = {}): Promise<LocalApi> {
  if (options.env) Object.assign(process.env, options.env);
  const trustProxy = options.trustProxy ?? process.env.CLICKSIEVE_TRUST_PROXY === '1';
  const usage = new UsagePlans(options.dataDir);
  const server = createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () => options.onAccess?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    handleRequest(req, res, { trustProxy, usage }).catch((error: unknown) => {
      send(res, errorResponse({}, error), req.method === 'HEAD');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    stop: async () => {
      usage.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RequestScope {
  readonly trustProxy: boolean;
  readonly usage: UsagePlans;
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, scope: RequestScope): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const method = (req.method ?? 'GET').toUpperCase();
  if (isDashboardPath(url.pathname)) return serveDashboard(req, res, url.pathname);
  const matched = matchPath(url.pathname);
  if (!matched) return reject(req, res, {}, notFound(`no route for ${method} ${url.pathname}`));

  const browser = matched.routes.some((route) => route.def.browser);
  const allowed = matched.routes.map((route) => route.def.method as string);
  if (method === 'OPTIONS' && browser) return preflight(req, res, [...allowed, 'OPTIONS']);
  const route = matched.routes.find((candidate) => candidate.def.method === method);
  if (!route) return reject(req, res, { browser }, methodNotAllowed(browser ? [...allowed, 'OPTIONS'] : allowed));

  const body = await readBody(req);
  if (body === 'too-large') return reject(req, res, route.def, payloadTooLarge(MAX_BODY_BYTES), true);

  const event = proxyEvent(req, url, route, matched.params, body, scope.trustProxy);
  if (usesAuthorizer(route.def) && handlerExists(AUTHORIZER_HANDLER)) {
    const authorization = await authorize(event);
    if (authorization instanceof ApiError) return reject(req, res, route.def, authorization);
    event.requestContext.authorizer = authorization.context;
    // As on AWS: a method under a usage plan needs a usage key from the authorizer, else API Gateway's 401.
    if (usesUsagePlan(route.def) && !authorization.usageIdentifierKey)
      return reject(req, res, route.def, unauthorized());
    // The deferred answer's key is a throttle on AWS only; the function meters by the property's plan.
    if (authorization.usageIdentifierKey && authorization.usageIdentifierKey !== DEFERRED_USAGE_KEY) {
      const verdict = scope.usage.admit(authorization.usageIdentifierKey, planIdOf(authorization.context));
      if (!verdict.ok && verdict.reason === 'rate') {
        return reject(req, res, route.def, rateLimited(verdict.retryAfterSeconds, { plan: 'burst' }));
      }
      if (!verdict.ok)
        return reject(req, res, route.def, paymentRequired(`monthly allowance of ${verdict.plan.name} used up`));
    }
  }

  let result: APIGatewayProxyResult;
  try {
    result = await invoke<APIGatewayProxyResult>(loadHandler(route.def.handler), event, route.id, HANDLER_TIMEOUT_MS);
    if (!result || typeof result.statusCode !== 'number')
      throw new Error(`${route.id} returned a malformed proxy result`);
  } catch (error) {
    if (error instanceof HandlerMissingError)
      return reject(req, res, route.def, notImplemented(`${method} ${route.def.path}`));
    result = errorResponse(route.def, error, event);
  }
  send(res, result, method === 'HEAD');
}

/** Browser routes authenticate in the function: the public key may travel in the body, which authorizers never see. */
export const usesAuthorizer = (route: RouteDef): boolean => route.auth.length > 0 && route.browser !== true;

interface Authorization {
  readonly context: Record<string, unknown>;
  readonly usageIdentifierKey?: string;
}

interface AuthorizerResult {
  principalId?: string;
  policyDocument?: { Statement?: Array<{ Effect?: string; Action?: string | string[]; Resource?: string | string[] }> };
  context?: Record<string, unknown>;
  usageIdentifierKey?: string;
}

/** Runs the stack's REQUEST authorizer; Unauthorized → 401, Deny (or no Allow) → 403, anything else broken → 500. */
export async function authorize(event: APIGatewayProxyEvent): Promise<Authorization | ApiError> {
  const ctx = event.requestContext;
  const methodArn = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/${STAGE}/${event.httpMethod}${event.path}`;
  const authorizerEvent: APIGatewayRequestAuthorizerEvent = {
    type: 'REQUEST',
    methodArn,
    resource: event.resource,
    path: event.path,
    httpMethod: event.httpMethod,
    headers: event.headers,
    multiValueHeaders: event.multiValueHeaders,
    queryStringParameters: event.queryStringParameters,
    multiValueQueryStringParameters: event.multiValueQueryStringParameters,
    pathParameters: event.pathParameters,
    stageVariables: null,
    requestContext: { ...ctx, authorizer: undefined } as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
  let result: AuthorizerResult;
  try {
    result = await invoke<AuthorizerResult>(
      loadHandler(AUTHORIZER_HANDLER),
      authorizerEvent,
      'authorizer',
      AUTHORIZER_TIMEOUT_MS,
    );
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized') return unauthorized();
    errorResponse({}, error, event);
    return serverError();
  }
  if (!result || typeof result !== 'object' || !result.policyDocument) return serverError();
  const context = result.context ?? {};
  if (Object.values(context).some((value) => value !== null && typeof value === 'object')) return serverError();
  if (!policyAllows(result.policyDocument, methodArn)) return forbidden();
  return {
    context: { ...context, principalId: result.principalId },
    usageIdentifierKey: result.usageIdentifierKey,
  };
}

function policyAllows(policy: NonNullable<AuthorizerResult['policyDocument']>, methodArn: string): boolean {
  const applies = (statement: NonNullable<typeof policy.Statement>[number]) => {
    const actions = [statement.Action ?? []].flat();
    const resources = [statement.Resource ?? []].flat();
    const invokes = actions.some((action) => ['execute-api:Invoke', 'execute-api:*', '*'].includes(action));
    return invokes && resources.some((resource) => wildcard(resource).test(methodArn));
  };
  const statements = policy.Statement ?? [];
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

const wildcard = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

const planIdOf = (context: Record<string, unknown>): string | undefined =>
  typeof context.planId === 'string' ? context.planId : undefined;

function proxyEvent(
  req: IncomingMessage,
  url: URL,
  route: CompiledRoute,
  params: Record<string, string>,
  body: Buffer | undefined,
  trustProxy: boolean,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const text = body && body.length > 0 ? utf8(body) : undefined;
  const now = new Date();
  const requestId = randomUUID();
  return {
    resource: route.def.path,
    path: url.pathname,
    httpMethod: route.def.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: route.paramNames.length > 0 ? params : null,
    stageVariables: null,
    body: body && body.length > 0 ? (text ?? body.toString('base64')) : null,
    isBase64Encoded: body !== undefined && body.length > 0 && text === undefined,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: route.def.method,
      path: `/${STAGE}${url.pathname}`,
      stage: STAGE,
      requestId,
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: route.id,
      resourcePath: route.def.path,
      domainName: req.headers.host ?? '127.0.0.1',
      identity: {
        sourceIp: clientAddress(req, trustProxy),
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  };
}

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string' && forwarded.trim() !== '') return forwarded.split(',')[0]!.trim();
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Reads at most MAX_BODY_BYTES; past that it stops collecting and answers 'too-large'. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length > 0 ? Buffer.concat(chunks) : undefined);
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
  });
}

function utf8(body: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function preflight(req: IncomingMessage, res: ServerResponse, methods: string[]): void {
  req.resume();
  res.writeHead(204, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': methods.join(','),
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? browserRequestHeaders.join(','),
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': browserRequestHeaders.join(','),
  'Access-Control-Allow-Methods': 'GET,POST,PUT,OPTIONS',
};

/** Answers with the contract's error body; `close` ends the connection (an unread body is not drained). */
function reject(
  req: IncomingMessage,
  res: ServerResponse,
  route: Pick<RouteDef, 'browser'>,
  error: ApiError,
  close = false,
) {
  const response: APIGatewayProxyResult = {
    statusCode: error.statusCode,
    headers: { 'Content-Type': 'application/json', ...(route.browser ? CORS_HEADERS : {}), ...error.headers },
    body: JSON.stringify(error.toBody()),
  };
  if (close) res.setHeader('Connection', 'close');
  else req.resume();
  send(res, response, req.method === 'HEAD');
}

function send(res: ServerResponse, result: APIGatewayProxyResult, head: boolean): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  headers['Content-Length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(head ? undefined : body);
}
