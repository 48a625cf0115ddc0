import { DEFERRED, presentedCredential, principalFromAuthorizer, routeAccepts } from '../../../shared/auth/principal';
import type { ApiError } from '../../../shared/http/errors';
import { type RouteDef, routes } from '../../../shared/routes';
import { ADMIN_KEY, world } from './fixtures';

const input = (route: RouteDef, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  route,
  headers,
  query: {},
  pathParameters: null,
  bodyTrackingKey: undefined,
  authorizer: undefined,
  sourceIp: '198.51.100.1',
  ...extra,
});

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as ApiError).statusCode;
  }
}

describe('authenticate', () => {
  it('resolves each kind of credential from each place it may come from', async () => {
    const { auth, a } = await world();
    const id = a.property.id;
    expect(await auth.authenticate(input(routes.events, { 'x-api-key': a.publicKey }))).toEqual({
      kind: 'public',
      propertyId: id,
      planId: 'starter',
    });
    expect(await auth.authenticate(input(routes.decision, { 'x-api-key': a.secretKey }))).toMatchObject({
      kind: 'secret',
      propertyId: id,
    });
    expect(
      await auth.authenticate(input(routes.botVerdict, { 'x-app-key': a.publicKey, 'x-app-secret': a.secretKey })),
    ).toMatchObject({ kind: 'secret', propertyId: id });
    expect(
      await auth.authenticate(input(routes.conversion, { authorization: `Bearer ${a.webhookSecret}` })),
    ).toMatchObject({ kind: 'webhook', propertyId: id });
    expect(await auth.authenticate(input(routes.conversion, { authorization: `bearer ${a.secretKey}` }))).toMatchObject(
      {
        kind: 'secret',
      },
    );
    expect(
      await auth.authenticate(input(routes.ipCheck, {}, { query: { token: a.secretKey, ip: '1.1.1.1' } })),
    ).toMatchObject({ kind: 'secret', propertyId: id });
    expect(await auth.authenticate(input(routes.click, {}, { bodyTrackingKey: a.publicKey }))).toMatchObject({
      kind: 'public',
      propertyId: id,
    });
    expect(await auth.authenticate(input(routes.createProperty, { 'x-admin-key': ADMIN_KEY }))).toEqual({
      kind: 'admin',
    });
  });

  it('answers 401 for missing, unknown, malformed or misplaced credentials', async () => {
    const { auth, a, b } = await world();
    const cases: Promise<unknown>[] = [
      auth.authenticate(input(routes.events)),
      auth.authenticate(input(routes.events, { 'x-api-key': 'pk_unknown' })),
      auth.authenticate(input(routes.events, { 'x-api-key': `${a.publicKey}x` })),
      auth.authenticate(input(routes.createProperty, { 'x-admin-key': 'wrong' })),
      auth.authenticate(input(routes.conversion, { authorization: a.webhookSecret })),
      // The pair must be one property's public and secret key.
      auth.authenticate(input(routes.botVerdict, { 'x-app-key': a.publicKey, 'x-app-secret': b.secretKey })),
      auth.authenticate(input(routes.botVerdict, { 'x-app-key': a.secretKey, 'x-app-secret': a.secretKey })),
      auth.authenticate(input(routes.botVerdict, { 'x-app-secret': a.secretKey })),
      // ?token= only where the route takes it; tracking_key only on browser routes and only the public key.
      auth.authenticate(input(routes.decision, {}, { query: { token: a.secretKey } })),
      auth.authenticate(input(routes.decision, {}, { bodyTrackingKey: a.secretKey })),
      auth.authenticate(input(routes.click, {}, { bodyTrackingKey: a.secretKey })),
    ];
    for (const attempt of cases) expect(await statusOf(attempt)).toBe(401);
  });

  it('answers 403 for a valid credential of a kind the route does not take', async () => {
    const { auth, a } = await world();
    expect(await statusOf(auth.authenticate(input(routes.decision, { 'x-api-key': a.publicKey })))).toBe(403);
    expect(
      await statusOf(auth.authenticate(input(routes.events, { authorization: `Bearer ${a.webhookSecret}` }))),
    ).toBe(403);
    expect(await statusOf(auth.authenticate(input(routes.createProperty, { 'x-api-key': a.secretKey })))).toBe(403);
    expect(await statusOf(auth.authenticate(input(routes.events, { 'x-admin-key': ADMIN_KEY })))).toBe(403);
  });

  it("answers 403 for another property's id in the path, known or not; admin may name any", async () => {
    const { auth, a, b } = await world();
    const on = (id: string) => ({ pathParameters: { id } });
    const secretA = { 'x-api-key': a.secretKey };
    expect(await statusOf(auth.authenticate(input(routes.getConfig, secretA, on(a.property.id))))).toBe(200);
    expect(await statusOf(auth.authenticate(input(routes.getConfig, secretA, on(b.property.id))))).toBe(403);
    expect(await statusOf(auth.authenticate(input(routes.propertyStats, secretA, on('prop_nobody'))))).toBe(403);
    expect(
      await statusOf(auth.authenticate(input(routes.rotateKeys, { 'x-admin-key': ADMIN_KEY }, on(b.property.id)))),
    ).toBe(200);
  });

  it('answers 402 for a disabled property', async () => {
    const { auth, a, store } = await world();
    await store.update(a.property.id, { disabled: true }, new Date().toISOString());
    expect(await statusOf(auth.authenticate(input(routes.events, { 'x-api-key': a.publicKey })))).toBe(402);
  });

  it('refuses a rotated-away key at once and takes the new one even with a stale cached property', async () => {
    const { auth, a, service } = await world();
    const id = a.property.id;
    expect(await statusOf(auth.authenticate(input(routes.decision, { 'x-api-key': a.secretKey })))).toBe(200);
    const rotated = await service.rotateKeys(id, 'all');
    expect(await statusOf(auth.authenticate(input(routes.decision, { 'x-api-key': a.secretKey })))).toBe(401);
    expect(
      await statusOf(auth.authenticate(input(routes.conversion, { authorization: `Bearer ${a.webhookSecret}` }))),
    ).toBe(401);
    expect(await statusOf(auth.authenticate(input(routes.decision, { 'x-api-key': rotated.secretKey! })))).toBe(200);
    expect(await statusOf(auth.authenticate(input(routes.events, { 'x-api-key': a.publicKey })))).toBe(200);
  });

  it('trusts a decided authorizer context, still authorizing it for the route and path', async () => {
    const { auth } = await world();
    const context = { kind: 'secret', propertyId: 'prop_x', planId: 'starter', principalId: 'prop_x' };
    expect(await auth.authenticate(input(routes.decision, {}, { authorizer: context }))).toEqual({
      kind: 'secret',
      propertyId: 'prop_x',
      planId: 'starter',
    });
    const otherPath = { authorizer: context, pathParameters: { id: 'prop_y' } };
    expect(await statusOf(auth.authenticate(input(routes.getConfig, {}, otherPath)))).toBe(403);
    const publicOnSecret = { authorizer: { ...context, kind: 'public' } };
    expect(await statusOf(auth.authenticate(input(routes.decision, {}, publicOnSecret)))).toBe(403);
    // A deferred authorizer leaves the decision to the function.
    expect(await statusOf(auth.authenticate(input(routes.click, {}, { authorizer: { kind: DEFERRED } })))).toBe(401);
  });
});

describe('credential sources and route rules', () => {
  it('takes the first source present, in the documented order', () => {
    const headers = { 'x-admin-key': 'adm', 'x-api-key': 'sk_1', authorization: 'Bearer whsec_1' };
    expect(presentedCredential(routes.rotateKeys, headers, {}, undefined)).toEqual({ type: 'admin', value: 'adm' });
    expect(
      presentedCredential(routes.conversion, { authorization: 'Bearer whsec_1', 'x-api-key': 'sk_1' }, {}, undefined),
    ).toEqual({ type: 'key', value: 'whsec_1', from: 'bearer' });
    expect(presentedCredential(routes.click, {}, {}, 'pk_1')).toEqual({ type: 'key', value: 'pk_1', from: 'body' });
    expect(presentedCredential(routes.decision, {}, {}, 'pk_1')).toBeUndefined();
  });

  it('lets the secret key do what the public key and the webhook secret may, never admin work', () => {
    expect(routeAccepts(routes.click, 'secret')).toBe(true);
    expect(routeAccepts(routes.conversion, 'secret')).toBe(true);
    expect(routeAccepts(routes.conversion, 'public')).toBe(false);
    expect(routeAccepts(routes.createProperty, 'secret')).toBe(false);
    expect(routeAccepts(routes.decision, 'public')).toBe(false);
  });

  it('ignores authorizer contexts that decided nothing', () => {
    expect(principalFromAuthorizer(undefined)).toBeUndefined();
    expect(principalFromAuthorizer({ kind: DEFERRED })).toBeUndefined();
    expect(principalFromAuthorizer({ kind: 'secret' })).toBeUndefined();
    expect(principalFromAuthorizer({ kind: 'root', propertyId: 'prop_x' })).toBeUndefined();
    expect(principalFromAuthorizer({ kind: 'admin' })).toEqual({ kind: 'admin' });
  });
});
