import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { handler as getConfigHandler } from '../../functions/api/get-config';
import { hashCredential } from '../../shared/auth/credentials';
import { ENV, requireEnv } from '../../shared/config/env';
import { createRateMeter, DynamoMeterStore, useRateMeter } from '../../shared/http/rateLimit';
import { PropertyExistsError } from '../../shared/properties/model';
import { documentClient } from '../../shared/store/clients';
import { DynamoPropertyStore } from '../../shared/store/properties/dynamo';
import { type Credentials, startTestStack, type TestStack } from './support';

let stack: TestStack;
const store = new DynamoPropertyStore(documentClient, requireEnv(ENV.tableName));

beforeAll(async () => {
  stack = await startTestStack({ pollers: false });
});
afterAll(async () => {
  await stack?.stop();
  useRateMeter(undefined);
});

const configOf = (property: Credentials, headers: Record<string, string>) =>
  stack.fetchJson(`/v1/properties/${property.id}/config`, { headers });

describe('properties and credentials on the local stack (DynamoDB Local)', () => {
  it('creates a property whose keys authenticate as their kinds, stored only as hashes', async () => {
    const property = await stack.createProperty({ plan: 'starter', currency: 'VND', timezone: 'Asia/Ho_Chi_Minh' });
    expect(property).toMatchObject({ id: expect.stringMatching(/^prop_/), plan: 'starter' });

    const bySecret = await configOf(property, { 'x-api-key': property.secretKey });
    expect(bySecret.status).toBe(200);
    expect(bySecret.body).toMatchObject({ currency: 'VND', timezone: 'Asia/Ho_Chi_Minh', plan: 'starter' });
    expect(bySecret.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(bySecret.headers.get('x-ratelimit-remaining'))).toBeLessThan(1000);
    expect(Number(bySecret.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);

    const byPair = await configOf(property, { 'x-app-key': property.publicKey, 'x-app-secret': property.secretKey });
    expect(byPair.status).toBe(200);
    // Valid credentials of kinds this route does not take.
    expect((await configOf(property, { 'x-api-key': property.publicKey })).status).toBe(403);
    expect((await configOf(property, { authorization: `Bearer ${property.webhookSecret}` })).status).toBe(403);
    const invalid = await configOf(property, { 'x-api-key': `${property.secretKey}0` });
    expect(invalid.status).toBe(401);
    expect(invalid.body).toEqual({ error: expect.any(String), code: 'UNAUTHORIZED', details: {} });

    const stored = await store.get(property.id, true);
    expect(stored?.keyHashes).toEqual({
      public: hashCredential(property.publicKey),
      secret: hashCredential(property.secretKey),
      webhook: hashCredential(property.webhookSecret),
      readonly: hashCredential(property.readonlyKey),
    });
    const raw = JSON.stringify(stored);
    for (const secret of [property.secretKey, property.webhookSecret, property.readonlyKey]) {
      expect(raw).not.toContain(secret);
    }
    expect(await store.findCredential(hashCredential(property.webhookSecret))).toEqual({
      hash: hashCredential(property.webhookSecret),
      propertyId: property.id,
      kind: 'webhook',
    });
  });

  it('rotation: the old secret fails at once, the new one works, the public key stays', async () => {
    const property = await stack.createProperty();
    const rotated = await stack.fetchJson(`/v1/properties/${property.id}/rotate-keys`, {
      method: 'POST',
      apiKey: property.secretKey,
      body: { which: 'all' },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({
      id: property.id,
      secretKey: expect.stringMatching(/^sk_/),
      webhookSecret: expect.stringMatching(/^whsec_/),
      readonlyKey: expect.stringMatching(/^rk_/),
      rotatedAt: expect.any(String),
    });
    expect((await configOf(property, { 'x-api-key': property.secretKey })).status).toBe(401);
    expect((await configOf(property, { 'x-api-key': rotated.body.secretKey })).status).toBe(200);
    expect(await store.findCredential(hashCredential(property.secretKey))).toBeUndefined();
    expect(await store.findCredential(hashCredential(property.webhookSecret))).toBeUndefined();
    expect(await store.findCredential(hashCredential(property.publicKey))).toMatchObject({ kind: 'public' });

    const byAdmin = await stack.fetchJson(`/v1/properties/${property.id}/rotate-keys`, {
      method: 'POST',
      admin: true,
      body: { which: 'secret' },
    });
    expect(byAdmin.status).toBe(200);
    expect((await configOf(property, { 'x-api-key': rotated.body.secretKey })).status).toBe(401);
  });

  it("answers 403 for another property's secret, on config and rotation alike", async () => {
    const [a, b] = await Promise.all([stack.createProperty(), stack.createProperty()]);
    const res = await configOf(b, { 'x-api-key': a.secretKey });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN' });
    const rotate = await stack.fetchJson(`/v1/properties/${b.id}/rotate-keys`, {
      method: 'POST',
      apiKey: a.secretKey,
      body: { which: 'all' },
    });
    expect(rotate.status).toBe(403);
    expect((await configOf(b, { 'x-api-key': b.secretKey })).status).toBe(200);
  });

  it('config GET/PUT round trip', async () => {
    const property = await stack.createProperty();
    // The ad-account link is the operator's (admin key); the tenant may then choose campaigns.
    const link = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      admin: true,
      body: { adAccount: { provider: 'google_ads', customerId: '123-456-7890' } },
    });
    expect(link.status).toBe(200);
    const put = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      apiKey: property.secretKey,
      body: {
        thresholds: { suspicious: 35, fraud: 75 },
        allowlist: ['192.0.2.0/24'],
        ruleWeights: { datacenter_ip: 2 },
        adAccount: { provider: 'google_ads', customerId: '123-456-7890', campaignIds: ['42'] },
      },
    });
    expect(put.status).toBe(200);
    const get = await configOf(property, { 'x-api-key': property.secretKey });
    expect(get.body).toEqual(put.body);
    expect(get.body).toMatchObject({
      thresholds: { suspicious: 35, fraud: 75 },
      allowlist: ['192.0.2.0/24'],
      ruleWeights: { datacenter_ip: 2 },
      monitorOnly: false,
      adAccount: { provider: 'google_ads', customerId: '123-456-7890', campaignIds: ['42'], enabled: true },
    });
    const unlinked = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      admin: true,
      body: { adAccount: null, monitorOnly: true },
    });
    expect(unlinked.body).toMatchObject({
      adAccount: null,
      monitorOnly: true,
      thresholds: { suspicious: 35, fraud: 75 },
    });
    const bad = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      apiKey: property.secretKey,
      body: { allowlist: ['nonsense'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details.fields).toHaveProperty(['allowlist.0']);
  });

  it('refuses to create a property or key that already exists', async () => {
    const property = await stack.createProperty();
    const existing = await store.get(property.id, true);
    await expect(store.create({ ...existing!, id: 'prop_copy' })).rejects.toBeInstanceOf(PropertyExistsError);
    expect(await store.get('prop_copy', true)).toBeUndefined();
  });
});

describe('rate meter on DynamoDB Local', () => {
  const event = (property: Credentials): APIGatewayProxyEvent =>
    ({
      httpMethod: 'GET',
      resource: '/v1/properties/{id}/config',
      path: `/v1/properties/${property.id}/config`,
      headers: { 'x-api-key': property.secretKey },
      body: null,
      isBase64Encoded: false,
      queryStringParameters: null,
      pathParameters: { id: property.id },
      requestContext: { requestId: 'r', identity: { sourceIp: '198.51.100.20' } },
    }) as unknown as APIGatewayProxyEvent;

  it('answers 429 with Retry-After past a tiny plan, with the rate headers on every answer', async () => {
    const property = await stack.createProperty();
    useRateMeter(
      createRateMeter({
        store: new DynamoMeterStore(documentClient, requireEnv(ENV.tableName)),
        plan: (id) => ({ id, name: 'Tiny', ratePerMinute: 3, burst: 3, monthlyAllowance: 1000 }),
      }),
    );
    // Stay inside one minute so the window cannot roll over mid-test.
    const secondsLeft = 60 - (Math.floor(Date.now() / 1000) % 60);
    if (secondsLeft < 5) await new Promise((resolve) => setTimeout(resolve, secondsLeft * 1000 + 100));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await getConfigHandler(event(property), {} as Context));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers?.['X-RateLimit-Remaining'])).toEqual(['2', '1', '0', '0']);
    const limited = answers[3]!;
    expect(JSON.parse(limited.body)).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers?.['Retry-After'])).toBeLessThanOrEqual(60);
    expect(limited.headers?.['X-RateLimit-Limit']).toBe('3');
  });
});
