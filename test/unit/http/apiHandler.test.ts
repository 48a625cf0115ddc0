import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { handler as createProperty } from '../../../functions/api/create-property';
import { handler as getConfig } from '../../../functions/api/get-config';
import { handler as health } from '../../../functions/api/health';
import { handler as openapi } from '../../../functions/api/openapi';
import { handler as plans } from '../../../functions/api/plans';
import { handler as putConfig } from '../../../functions/api/put-config';
import { handler as rotateKeys } from '../../../functions/api/rotate-keys';
import { createAuthenticator, useAuthenticator } from '../../../shared/auth/principal';
import { apiHandler, MAX_BODY_BYTES } from '../../../shared/http/apiHandler';
import { conflict } from '../../../shared/http/errors';
import { createRateMeter, useRateMeter } from '../../../shared/http/rateLimit';
import { useProperties } from '../../../shared/properties/service';
import { type RouteDef, routes } from '../../../shared/routes';
import { MemoryMeterStore } from '../../../shared/store/meter';
import { ADMIN_KEY, world } from '../auth/fixtures';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface Call {
  headers?: Record<string, string>;
  body?: string;
  path?: Record<string, string>;
  query?: Record<string, string>;
  base64?: boolean;
}

function apiEvent(route: RouteDef, call: Call = {}): APIGatewayProxyEvent {
  return {
    httpMethod: route.method,
    resource: route.path,
    path: route.path.replace(/\{(\w+)\}/g, (_m, name: string) => call.path?.[name] ?? name),
    headers: call.headers ?? {},
    multiValueHeaders: {},
    body: call.body ?? null,
    isBase64Encoded: call.base64 ?? false,
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: call.path ?? null,
    stageVariables: null,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '198.51.100.7' } },
  } as unknown as APIGatewayProxyEvent;
}

const context = { awsRequestId: 'aws-req-1' } as Context;

async function invoke(fn: Handler, route: RouteDef, call: Call = {}) {
  const result = await fn(apiEvent(route, call), context);
  const json = result.body ? JSON.parse(result.body) : undefined;
  return { ...result, json };
}

const json = (value: unknown, headers: Record<string, string> = {}) => ({
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

let fixture: Awaited<ReturnType<typeof world>>;

beforeEach(async () => {
  fixture = await world();
  useProperties(fixture.service);
  useAuthenticator(createAuthenticator({ lookup: fixture.service, adminKey: adminCheck }));
  useRateMeter(createRateMeter({ store: new MemoryMeterStore() }));
});
afterAll(() => {
  useProperties(undefined);
  useAuthenticator(undefined);
  useRateMeter(undefined);
});

async function adminCheck(presented: string) {
  return presented === ADMIN_KEY;
}

function expectErrorBody(body: unknown, code: string) {
  expect(body).toEqual({ error: expect.any(String), code, details: expect.any(Object) });
}

describe('public routes', () => {
  it('health answers ok, a version and the time', async () => {
    const res = await invoke(health, routes.health);
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ status: 'ok', version: expect.any(String), time: expect.any(String) });
    expect(new Date(res.json.time).toISOString()).toBe(res.json.time);
    expect(res.headers?.['X-RateLimit-Limit']).toBeUndefined();
  });

  it('plans lists the plans file with branding', async () => {
    const res = await invoke(plans, routes.plans);
    expect(res.statusCode).toBe(200);
    expect(res.json.plans.map((p: { id: string }) => p.id)).toEqual(['starter', 'growth', 'network']);
    expect(res.json.plans[0]).toMatchObject({
      ratePerMinute: 1000,
      burst: expect.any(Number),
      monthlyAllowance: expect.any(Number),
    });
    expect(res.json.branding.name).toBe('clicksieve');
  });

  it('openapi serves the 3.1 document', async () => {
    const res = await invoke(openapi, routes.openapi);
    expect(res.statusCode).toBe(200);
    expect(res.json.openapi).toBe('3.1.0');
  });
});

describe('the error body on every failure', () => {
  const admin = { 'x-admin-key': ADMIN_KEY };

  it('413 for a body over 32 KiB, plain or base64', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
    const plain = await invoke(createProperty, routes.createProperty, json(JSON.parse(big), admin));
    expect(plain.statusCode).toBe(413);
    expectErrorBody(plain.json, 'PAYLOAD_TOO_LARGE');
    const encoded = await invoke(createProperty, routes.createProperty, {
      ...json({}, admin),
      body: Buffer.from(big).toString('base64'),
      base64: true,
    });
    expect(encoded.statusCode).toBe(413);
  });

  it('415 for a content type other than JSON', async () => {
    const res = await invoke(createProperty, routes.createProperty, {
      headers: { 'content-type': 'text/plain', ...admin },
      body: '{"name":"x"}',
    });
    expect(res.statusCode).toBe(415);
    expectErrorBody(res.json, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('400 for malformed JSON', async () => {
    const res = await invoke(createProperty, routes.createProperty, {
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...admin },
      body: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expectErrorBody(res.json, 'INVALID_REQUEST');
  });

  it('400 naming the fields, without echoing the input back', async () => {
    const hugeKey = 'k'.repeat(5000);
    const res = await invoke(
      createProperty,
      routes.createProperty,
      json({ name: 42, currency: 'dollars', [hugeKey]: 'evil-value-xyz' }, admin),
    );
    expect(res.statusCode).toBe(400);
    expectErrorBody(res.json, 'INVALID_REQUEST');
    expect(Object.keys(res.json.details.fields)).toEqual(expect.arrayContaining(['name', 'currency']));
    expect(res.body.length).toBeLessThan(1000);
    expect(res.body).not.toContain('evil-value-xyz');
    expect(res.body).not.toContain('dollars');
  });

  it('400 naming `plan` for an unknown plan', async () => {
    const res = await invoke(createProperty, routes.createProperty, json({ name: 'Shop', plan: 'platinum' }, admin));
    expect(res.statusCode).toBe(400);
    expect(res.json.details.fields).toHaveProperty('plan');
  });

  it('500 with nothing leaked for an unexpected error; ApiErrors keep their status', async () => {
    const route = { ...routes.health, path: '/v1/test' } as RouteDef;
    const broken = apiHandler(route, async () => {
      throw new Error('ConnectionRefused: db.internal:8000 password=hunter2');
    });
    const res = await invoke(broken, route);
    expect(res.statusCode).toBe(500);
    expect(res.json).toEqual({ error: 'internal error', code: 'SERVER_ERROR', details: {} });
    expect(res.body).not.toContain('hunter2');
    const conflicting = apiHandler(route, async () => {
      throw conflict('already recorded', { order_id: 'DH1' });
    });
    const dup = await invoke(conflicting, route);
    expect(dup.statusCode).toBe(409);
    expect(dup.json).toEqual({ error: 'already recorded', code: 'CONFLICT', details: { order_id: 'DH1' } });
  });

  it('401 before any schema error for an unauthenticated caller', async () => {
    const res = await invoke(createProperty, routes.createProperty, json({ name: 42 }));
    expect(res.statusCode).toBe(401);
    expectErrorBody(res.json, 'UNAUTHORIZED');
  });
});

describe('properties through the handlers', () => {
  const admin = { 'x-admin-key': ADMIN_KEY };

  it('creates a property (admin only) and shows the credentials once', async () => {
    const res = await invoke(
      createProperty,
      routes.createProperty,
      json({ name: 'Shop C', domain: 'shop.example' }, admin),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^prop_/),
      name: 'Shop C',
      plan: 'starter',
      publicKey: expect.stringMatching(/^pk_/),
      secretKey: expect.stringMatching(/^sk_/),
      webhookSecret: expect.stringMatching(/^whsec_/),
      readonlyKey: expect.stringMatching(/^rk_/),
    });
    const stored = await fixture.store.get(res.json.id);
    expect(JSON.stringify(stored)).not.toContain(res.json.secretKey);
    expect(stored).toMatchObject({ currency: 'USD', timezone: 'UTC', disabled: false });
    const bySecret = await invoke(
      createProperty,
      routes.createProperty,
      json({ name: 'x' }, { 'x-api-key': fixture.a.secretKey }),
    );
    expect(bySecret.statusCode).toBe(403);
  });

  it('rotates with the property’s own secret; the old one fails at once; rate headers on every answer', async () => {
    const id = fixture.a.property.id;
    const res = await invoke(rotateKeys, routes.rotateKeys, {
      ...json({ which: 'secret' }, { 'x-api-key': fixture.a.secretKey }),
      path: { id },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ id, secretKey: expect.stringMatching(/^sk_/), rotatedAt: expect.any(String) });
    expect(res.headers?.['X-RateLimit-Limit']).toBe('1000');
    expect(res.headers?.['X-RateLimit-Remaining']).toBe('999');
    const old = await invoke(getConfig, routes.getConfig, {
      headers: { 'x-api-key': fixture.a.secretKey },
      path: { id },
    });
    expect(old.statusCode).toBe(401);
    const fresh = await invoke(getConfig, routes.getConfig, {
      headers: { 'x-api-key': res.json.secretKey },
      path: { id },
    });
    expect(fresh.statusCode).toBe(200);
    // Another property's secret: 403, with that caller's rate headers.
    const other = await invoke(rotateKeys, routes.rotateKeys, {
      ...json({ which: 'all' }, { 'x-api-key': fixture.b.secretKey }),
      path: { id },
    });
    expect(other.statusCode).toBe(403);
    // Validation after authentication carries the rate headers too, and spends none of the budget.
    const invalid = await invoke(rotateKeys, routes.rotateKeys, {
      ...json({ which: 'everything' }, { 'x-api-key': res.json.secretKey }),
      path: { id },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json.details.fields).toHaveProperty('which');
    expect(invalid.headers?.['X-RateLimit-Remaining']).toBe('998');
  });

  it('admin rotates any property; an unknown one is 404', async () => {
    const res = await invoke(rotateKeys, routes.rotateKeys, {
      ...json({ which: 'all' }, { 'x-admin-key': ADMIN_KEY }),
      path: { id: fixture.b.property.id },
    });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(['id', 'readonlyKey', 'rotatedAt', 'secretKey', 'webhookSecret']);
    expect(res.headers?.['X-RateLimit-Limit']).toBeUndefined();
    const missing = await invoke(rotateKeys, routes.rotateKeys, {
      ...json({ which: 'all' }, { 'x-admin-key': ADMIN_KEY }),
      path: { id: 'prop_missing' },
    });
    expect(missing.statusCode).toBe(404);
    expectErrorBody(missing.json, 'NOT_FOUND');
  });

  it('GET/PUT config: defaults, merge, CIDR checks, plan change', async () => {
    const id = fixture.a.property.id;
    const auth = { 'x-api-key': fixture.a.secretKey };
    const initial = await invoke(getConfig, routes.getConfig, { headers: auth, path: { id } });
    expect(initial.json).toEqual({
      thresholds: { suspicious: 40, fraud: 70 },
      monitorOnly: false,
      allowlist: [],
      ruleWeights: {},
      botActions: { low: 'record_only', medium: 'flag', high: 'flag', critical: 'challenge' },
      adAccount: null,
      name: 'Shop A',
      currency: 'USD',
      timezone: 'UTC',
      plan: 'starter',
      retentionDays: 396,
      exclusionDryRun: false,
      exclusionExpiryDays: 30,
      exclusionPlacements: true,
      averageCpc: null,
    });
    const put = (body: unknown) => invoke(putConfig, routes.putConfig, { ...json(body, auth), path: { id } });
    const upgrade = { monitorOnly: true, allowlist: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'], plan: 'growth' };
    // The plan is the operator's: the tenant's own secret key cannot change it, the admin key can.
    expect((await put({ ...upgrade, botActions: { critical: 'block' } })).statusCode).toBe(403);
    const changed = await invoke(putConfig, routes.putConfig, {
      ...json({ ...upgrade, botActions: { critical: 'block' } }, { 'x-admin-key': ADMIN_KEY }),
      path: { id },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json).toMatchObject({
      monitorOnly: true,
      allowlist: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'],
      botActions: { low: 'record_only', medium: 'flag', high: 'flag', critical: 'block' },
      thresholds: { suspicious: 40, fraud: 70 },
      plan: 'growth',
    });
    const again = await put({ thresholds: { suspicious: 30, fraud: 80 } });
    expect(again.json).toMatchObject({ monitorOnly: true, thresholds: { suspicious: 30, fraud: 80 } });
    // Retention: shorter than 13 months is allowed, longer or below 30 days is a 400 naming the field.
    expect((await put({ retentionDays: 90 })).json).toMatchObject({ retentionDays: 90 });
    for (const retentionDays of [397, 29, 90.5]) {
      const refused = await put({ retentionDays });
      expect(refused.statusCode).toBe(400);
      expect(JSON.stringify(refused.json)).toContain('retentionDays');
    }
    const badCidr = await put({ allowlist: ['10.0.0.0/8', '10.0.0.0/33', '127.1'] });
    expect(badCidr.statusCode).toBe(400);
    expect(Object.keys(badCidr.json.details.fields)).toEqual(['allowlist.1', 'allowlist.2']);
    const badThresholds = await put({ thresholds: { suspicious: 80, fraud: 20 } });
    expect(badThresholds.statusCode).toBe(400);
    const badPlan = await put({ plan: 'platinum' });
    expect(badPlan.json.details.fields).toHaveProperty('plan');
    const publicKey = await invoke(getConfig, routes.getConfig, {
      headers: { 'x-api-key': fixture.a.publicKey },
      path: { id },
    });
    expect(publicKey.statusCode).toBe(403);
  });
});
