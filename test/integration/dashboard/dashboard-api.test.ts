import { startTestStack, type TestStack } from '../support';
import { DATACENTER_IP, type SeededTraffic, seedTraffic } from './seed';

let stack: TestStack;
let seeded: SeededTraffic;

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  seeded = await seedTraffic(stack, { clean: 4, fraud: 3, averageCpc: 1.25, firstHost: 120 });
});

afterAll(async () => {
  await stack.stop();
});

const rk = () => seeded.property.readonlyKey;
const id = () => seeded.property.id;

describe('read-only key rk_', () => {
  it('is created with the property and signs in through GET /v1/session', async () => {
    expect(rk()).toMatch(/^rk_[A-Za-z0-9_-]{43}$/);
    const session = await stack.fetchJson('/v1/session', { apiKey: rk() });
    expect(session.status).toBe(200);
    expect(session.body).toEqual({
      propertyId: id(),
      name: 'Dashboard shop',
      kind: 'readonly',
      currency: 'EUR',
      timezone: 'UTC',
      monitorOnly: false,
    });
    const bearer = await stack.fetchJson('/v1/session', { headers: { authorization: `Bearer ${rk()}` } });
    expect(bearer.body.kind).toBe('readonly');
  });

  it('reads but never writes, issues tokens, ingests or rotates', async () => {
    for (const path of [
      `/v1/properties/${id()}/config`,
      `/v1/property/${id()}/stats`,
      `/v1/property/${id()}/blocklist`,
    ]) {
      expect((await stack.fetchJson(path, { apiKey: rk() })).status).toBe(200);
    }
    const refused = [
      stack.fetchJson(`/v1/properties/${id()}/config`, { method: 'PUT', apiKey: rk(), body: { monitorOnly: true } }),
      stack.fetchJson(`/v1/properties/${id()}/rotate-keys`, { apiKey: rk(), body: { which: 'readonly' } }),
      stack.fetchJson('/v1/click-tokens', { apiKey: rk(), body: { provider: 'x' } }),
      stack.fetchJson('/v1/click', { apiKey: rk(), body: { gclid: 'x' } }),
      stack.fetchJson('/v1/events', { apiKey: rk(), body: { type: 'page_view' } }),
      stack.fetchJson('/v1/decision?visitorId=vis_abc', { apiKey: rk() }),
    ];
    for (const res of await Promise.all(refused)) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    const config = await stack.fetchJson(`/v1/properties/${id()}/config`, { apiKey: rk() });
    expect(config.body.monitorOnly).toBe(false);
  });

  it('is refused as a tracking_key and on another property', async () => {
    const other = await stack.createProperty();
    const asBody = await stack.fetchJson('/v1/click', { body: { tracking_key: rk(), gclid: 'x' } });
    expect(asBody.status).toBe(401);
    const cross = await stack.fetchJson(`/v1/property/${other.id}/timeseries`, { apiKey: rk() });
    expect(cross.status).toBe(403);
    const crossSearch = await stack.fetchJson(`/v1/property/${other.id}/clicks/search`, {
      apiKey: rk(),
      body: { clickId: seeded.cleanClickIds[0] },
    });
    expect(crossSearch.status).toBe(403);
  });

  it('rotates with the secret key: the old rk_ fails at once, the new one works', async () => {
    const own = await stack.createProperty();
    const rotated = await stack.fetchJson(`/v1/properties/${own.id}/rotate-keys`, {
      apiKey: own.secretKey,
      body: { which: 'readonly' },
    });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(['id', 'readonlyKey', 'rotatedAt']);
    expect((await stack.fetchJson('/v1/session', { apiKey: own.readonlyKey })).status).toBe(401);
    expect((await stack.fetchJson('/v1/session', { apiKey: rotated.body.readonlyKey })).status).toBe(200);
    const all = await stack.fetchJson(`/v1/properties/${own.id}/rotate-keys`, { admin: true, body: { which: 'all' } });
    expect(Object.keys(all.body).sort()).toEqual(['id', 'readonlyKey', 'rotatedAt', 'secretKey', 'webhookSecret']);
  });

  it('a wrong key of the right shape is 401', async () => {
    const res = await stack.fetchJson('/v1/session', { apiKey: `rk_${'A'.repeat(43)}` });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
  });
});

describe('GET /v1/property/{id}/timeseries', () => {
  it('has one point per local day, today last, agreeing with the stats route', async () => {
    const res = await stack.fetchJson(`/v1/property/${id()}/timeseries?range=30days`, { apiKey: rk() });
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(30);
    const today = res.body.days[29];
    expect(today.date).toBe(new Date().toISOString().slice(0, 10));
    const stats = await stack.fetchJson(`/v1/property/${id()}/stats?range=today`, { apiKey: rk() });
    expect(today.clicks).toBe(stats.body.totalDecisions);
    expect(today.invalid).toBe(stats.body.fraudCount);
    expect(today.clicks).toBe(7);
    expect(today.invalid).toBeGreaterThanOrEqual(1);
    expect(today.invalidShare).toBeCloseTo(today.invalid / 7, 4);
    expect(today.wastedSpend).toBeCloseTo(today.invalid * 1.25, 2);
    expect(res.body.totals).toMatchObject({ clicks: 7, invalid: today.invalid });
    expect(res.body).toMatchObject({
      currency: 'EUR',
      averageCpc: 1.25,
      spendEstimate: expect.stringContaining('averageCpc'),
    });
  });

  it('has no spend estimate without averageCpc, and refuses an unknown range', async () => {
    const own = await stack.createProperty();
    const res = await stack.fetchJson(`/v1/property/${own.id}/timeseries?range=7days`, { apiKey: own.readonlyKey });
    expect(res.body.days).toHaveLength(7);
    expect(res.body.totals).toEqual({
      clicks: 0,
      clean: 0,
      suspicious: 0,
      invalid: 0,
      invalidShare: 0,
      wastedSpend: null,
    });
    const bad = await stack.fetchJson(`/v1/property/${own.id}/timeseries?range=1000days`, { apiKey: own.readonlyKey });
    expect(bad.status).toBe(400);
  });
});

describe('POST /v1/property/{id}/clicks/search', () => {
  const search = (body: unknown, apiKey = rk()) =>
    stack.fetchJson(`/v1/property/${id()}/clicks/search`, { apiKey, body });

  it('finds a click by id with its at-click and final verdicts, reasons and what was done', async () => {
    const res = await search({ clickId: seeded.fraudClickIds[0] });
    expect(res.status).toBe(200);
    expect(res.body.scanned).toBe(1);
    const [click] = res.body.clicks;
    expect(click).toMatchObject({
      clickId: seeded.fraudClickIds[0],
      ip: DATACENTER_IP,
      gclid: seeded.fraudGclid,
      final: { label: expect.any(String) },
      atClick: { score: expect.any(Number) },
      beacon: { received: false, at: null },
      conversion: { converted: false, at: null },
      done: { monitorOnly: false, adsExclusion: 'not_linked' },
    });
    expect(click.reasons.length).toBeGreaterThan(0);
    expect(click.reasons[0]).toEqual({
      rule: expect.any(String),
      score: expect.any(Number),
      details: expect.any(String),
    });
    expect(click.signals.click.length).toBeGreaterThan(0);
  });

  it('finds by gclid, visitor and address within the window, newest first', async () => {
    const byGclid = await search({ gclid: seeded.fraudGclid });
    expect(byGclid.body.clicks.map((c: { clickId: string }) => c.clickId)).toEqual([seeded.fraudClickIds[0]]);
    const byIp = await search({ ip: DATACENTER_IP, days: 1 });
    expect(byIp.body.clicks.map((c: { clickId: string }) => c.clickId)).toEqual([...seeded.fraudClickIds].reverse());
    expect(byIp.body.scanned).toBe(7);
    const visitor = byGclid.body.clicks[0].visitorId;
    const byVisitor = await search({ visitorId: visitor });
    expect(byVisitor.body.clicks.length).toBeGreaterThanOrEqual(1);
    expect(byVisitor.body.clicks.every((c: { visitorId: string }) => c.visitorId === visitor)).toBe(true);
  });

  it("never returns another property's click, and wants exactly one criterion", async () => {
    const other = await stack.createProperty();
    const foreign = await stack.fetchJson(`/v1/property/${other.id}/clicks/search`, {
      apiKey: other.secretKey,
      body: { clickId: seeded.fraudClickIds[0] },
    });
    expect(foreign.status).toBe(200);
    expect(foreign.body.clicks).toEqual([]);
    expect((await search({})).status).toBe(400);
    expect((await search({ gclid: 'a', ip: '1.2.3.4' })).status).toBe(400);
    expect((await search({ ip: '1.2.3.4', days: 31 })).status).toBe(400);
    expect((await search({ clickId: 'nope' })).status).toBe(400);
  });
});

describe('GET /v1/property/{id}/sources', () => {
  it('ranks sources with enough clicks by clicks, with conversion rates', async () => {
    const res = await stack.fetchJson(`/v1/property/${id()}/sources`, { apiKey: rk() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tracksConversions: false, propertyConversionRate: 0, sources: [] });
  });
});

describe('GET /v1/properties (the operator’s view)', () => {
  it('lists every property to the admin key, oldest first, without any key', async () => {
    const res = await stack.fetchJson('/v1/properties', { admin: true });
    expect(res.status).toBe(200);
    const mine = res.body.properties.find((p: { id: string }) => p.id === id());
    expect(mine).toEqual({
      id: id(),
      name: 'Dashboard shop',
      plan: expect.any(String),
      enabled: true,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const text = JSON.stringify(res.body);
    for (const key of [seeded.property.secretKey, seeded.property.readonlyKey, seeded.property.publicKey]) {
      expect(text).not.toContain(key);
    }
    expect(text).not.toMatch(/keyHash|usageKey|sk_|rk_|pk_/);
    const created = res.body.properties.map((p: { created: string }) => p.created);
    expect(created).toEqual([...created].sort());
  });

  it('is 403 for the secret, read-only and public keys, and 401 for a wrong admin key', async () => {
    for (const apiKey of [seeded.property.secretKey, seeded.property.readonlyKey, seeded.property.publicKey]) {
      const res = await stack.fetchJson('/v1/properties', { apiKey });
      expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    }
    const wrong = await stack.fetchJson('/v1/properties', { headers: { 'x-admin-key': 'adm_wrong' } });
    expect(wrong.status).toBe(401);
    expect((await stack.fetchJson('/v1/properties')).status).toBe(401);
  });
});
