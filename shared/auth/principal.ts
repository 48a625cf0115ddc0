import { forbidden, paymentRequired, unauthorized } from '../http/errors';
import type { PropertyRecord } from '../properties/model';
import { properties } from '../properties/service';
import type { CredentialKind, RouteDef } from '../routes';
import { type AdminKeyVerifier, adminKeyFromEnv } from './adminKey';
import { credentialKindOf, hashCredential, type PropertyCredentialKind, sameHash } from './credentials';

/** Who is calling, once authenticated and authorized for the route. */
export interface Principal {
  readonly kind: CredentialKind;
  /** Set for every kind but `admin`. */
  readonly propertyId?: string;
  readonly planId?: string;
}

export interface AuthenticateInput {
  readonly route: RouteDef;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly pathParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly bodyTrackingKey: string | undefined;
  /** `event.requestContext.authorizer` as API Gateway (or the local gateway) passed it. */
  readonly authorizer: Record<string, unknown> | undefined | null;
  readonly sourceIp: string;
}

/** What authentication needs of the property store. */
export interface CredentialLookup {
  findCredential(
    hash: string,
  ): Promise<{ readonly propertyId: string; readonly kind: PropertyCredentialKind } | undefined>;
  getProperty(id: string, options?: { fresh?: boolean }): Promise<PropertyRecord | undefined>;
}

export interface AuthDeps {
  readonly lookup: CredentialLookup;
  readonly adminKey: AdminKeyVerifier;
}

/** A credential as the request presented it, before it is checked. */
export type PresentedCredential =
  | { readonly type: 'admin'; readonly value: string }
  | { readonly type: 'key'; readonly value: string; readonly from: 'x-api-key' | 'bearer' | 'query' | 'body' }
  | { readonly type: 'pair'; readonly publicKey: string; readonly secretKey: string };

export interface Authenticated {
  readonly principal: Principal;
  /** Set for property credentials: the authorizer needs the usage key and plan. */
  readonly property?: PropertyRecord;
}

/** Authorizer context kind that means "the authorizer could not decide; the handler authenticates". */
export const DEFERRED = 'deferred';

/**
 * The usage key of every deferred answer. Routes under a usage plan need one, or API Gateway itself
 * refuses the request (401) before the function can answer 402/403/5xx in the contract's words. It
 * selects the stack's `deferred` usage plan (a throttle only; the function meters by the property's own
 * plan). Not a credential: with `apiKeySource: AUTHORIZER` nobody can present it, so it may be public.
 */
export const DEFERRED_USAGE_KEY = 'clicksieve-deferred-answer-usage-key';
/** The throttle of the deferred usage plan: a safety valve while the function decides. */
export const DEFERRED_USAGE_THROTTLE = { ratePerSecond: 100, burst: 200 } as const;

const KINDS: readonly CredentialKind[] = ['admin', 'public', 'secret', 'webhook', 'readonly'];

/**
 * Where credentials come from, first match wins: `x-admin-key`; `X-App-Key` + `X-App-Secret`;
 * `Authorization: Bearer …`; `x-api-key`; `?token=` (routes with `queryToken` only); body
 * `tracking_key` (routes with `browser` only).
 */
export function presentedCredential(
  route: RouteDef,
  headers: Readonly<Record<string, string | undefined>>,
  query: Readonly<Record<string, string | undefined>>,
  bodyTrackingKey: string | undefined,
): PresentedCredential | undefined {
  const admin = headers['x-admin-key'];
  if (admin) return { type: 'admin', value: admin };
  const appKey = headers['x-app-key'];
  const appSecret = headers['x-app-secret'];
  if (appKey || appSecret) {
    if (!appKey || !appSecret) throw unauthorized('X-App-Key and X-App-Secret must be sent together');
    return { type: 'pair', publicKey: appKey, secretKey: appSecret };
  }
  const authorization = headers.authorization;
  if (authorization) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!bearer?.[1]) throw unauthorized('Authorization must be "Bearer <secret>"');
    return { type: 'key', value: bearer[1], from: 'bearer' };
  }
  const apiKey = headers['x-api-key'];
  if (apiKey) return { type: 'key', value: apiKey, from: 'x-api-key' };
  if (route.queryToken && query.token) return { type: 'key', value: query.token, from: 'query' };
  if (route.browser && bodyTrackingKey) return { type: 'key', value: bodyTrackingKey, from: 'body' };
  return undefined;
}

/**
 * Whether a route takes a kind of credential. The secret key may do everything for its own property,
 * so it is also accepted wherever the public key or the webhook secret is.
 */
export function routeAccepts(route: Pick<RouteDef, 'auth'>, kind: CredentialKind): boolean {
  if (route.auth.includes(kind)) return true;
  return kind === 'secret' && (route.auth.includes('public') || route.auth.includes('webhook'));
}

/**
 * The authorization half, the same for a principal from the authorizer context or from credentials:
 * 403 for a kind the route does not take, and 403 for a property credential on another property's
 * `/properties/{id}` or `/property/{id}` route — whether that property exists or not, so a key cannot
 * probe which ids exist.
 */
export function authorize(
  route: RouteDef,
  principal: Principal,
  pathParameters: Readonly<Record<string, string | undefined>> | null | undefined,
): void {
  if (!routeAccepts(route, principal.kind)) {
    throw forbidden(`this route does not accept a ${principal.kind} credential`);
  }
  const pathPropertyId = /\/propert(?:y|ies)\/\{id\}/.test(route.path) ? pathParameters?.id : undefined;
  if (principal.kind !== 'admin' && pathPropertyId !== undefined && pathPropertyId !== principal.propertyId) {
    throw forbidden('this credential belongs to another property');
  }
}

/** A principal the authorizer already established, or undefined when there is none (or it deferred). */
export function principalFromAuthorizer(context: Record<string, unknown> | undefined | null): Principal | undefined {
  const kind = context?.kind;
  if (typeof kind !== 'string' || !KINDS.includes(kind as CredentialKind)) return undefined;
  const propertyId = typeof context?.propertyId === 'string' && context.propertyId ? context.propertyId : undefined;
  const planId = typeof context?.planId === 'string' && context.planId ? context.planId : undefined;
  if (kind !== 'admin' && !propertyId) return undefined;
  return { kind: kind as CredentialKind, propertyId, planId };
}

export function createAuthenticator(deps: AuthDeps) {
  /** Checks a presented credential: 401 unknown or malformed, 402 disabled property. */
  async function verify(presented: PresentedCredential): Promise<Authenticated> {
    if (presented.type === 'admin') {
      if (!(await deps.adminKey(presented.value))) throw unauthorized();
      return { principal: { kind: 'admin' } };
    }
    if (presented.type === 'pair') {
      const [app, secret] = await Promise.all([propertyKey(presented.publicKey), propertyKey(presented.secretKey)]);
      if (app?.kind !== 'public' || secret?.kind !== 'secret' || app.property.id !== secret.property.id) {
        throw unauthorized('X-App-Key and X-App-Secret must be the public and secret key of one property');
      }
      return usable(secret.property, 'secret');
    }
    const found = await propertyKey(presented.value);
    if (!found) throw unauthorized();
    if (presented.from === 'body' && found.kind !== 'public') throw unauthorized('tracking_key must be a public key');
    return usable(found.property, found.kind);
  }

  async function propertyKey(value: string) {
    const kind = credentialKindOf(value);
    if (!kind) return undefined;
    const hash = hashCredential(value);
    const credential = await deps.lookup.findCredential(hash);
    if (!credential || credential.kind !== kind) return undefined;
    let property = await deps.lookup.getProperty(credential.propertyId);
    // A cached property may predate a rotation that created this key: read it again before refusing.
    if (property && !sameHash(property.keyHashes[kind] ?? '', hash)) {
      property = await deps.lookup.getProperty(credential.propertyId, { fresh: true });
    }
    if (!property || !sameHash(property.keyHashes[kind] ?? '', hash)) return undefined;
    return { kind, property };
  }

  function usable(property: PropertyRecord, kind: PropertyCredentialKind): Authenticated {
    if (property.disabled) throw paymentRequired('property disabled');
    return { principal: { kind, propertyId: property.id, planId: property.plan }, property };
  }

  /** Authenticates from the request's own credentials and authorizes them for the route. */
  async function authenticateRequest(input: Omit<AuthenticateInput, 'authorizer'>): Promise<Authenticated> {
    const presented = presentedCredential(input.route, input.headers, input.query, input.bodyTrackingKey);
    if (!presented) throw unauthorized();
    const authenticated = await verify(presented);
    authorize(input.route, authenticated.principal, input.pathParameters);
    return authenticated;
  }

  /** One place for every route: trusts the authorizer's context when it decided, else authenticates. */
  async function authenticate(input: AuthenticateInput): Promise<Principal> {
    const fromAuthorizer = principalFromAuthorizer(input.authorizer);
    if (fromAuthorizer) {
      authorize(input.route, fromAuthorizer, input.pathParameters);
      return fromAuthorizer;
    }
    return (await authenticateRequest(input)).principal;
  }

  return { authenticate, authenticateRequest, verify };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

let current: Authenticator | undefined;

/** The authenticator of the Lambda functions: the property table and the admin key from the environment. */
export function authenticator(): Authenticator {
  // Resolved per call, so a service swapped in with useProperties() is the one used.
  const lookup: CredentialLookup = {
    findCredential: (hash) => properties().findCredential(hash),
    getProperty: (id, options) => properties().getProperty(id, options),
  };
  current ??= createAuthenticator({ lookup, adminKey: adminKeyFromEnv() });
  return current;
}

/** Replaces the authenticator (tests). */
export function useAuthenticator(value: Authenticator | undefined): void {
  current = value;
}

export function authenticate(input: AuthenticateInput): Promise<Principal> {
  return authenticator().authenticate(input);
}
