import { startTestStack, type TestStack } from '../support';
import { DATACENTER_IP, type SeededTraffic, seedTraffic } from './seed';

let stack: TestStack;
let seeded: SeededTraffic;

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  seeded = await seedTraffic(stack, { clean: 4, fraud: 3, averageCpc: 1.25, firstHost: 120, conversions: 2 });
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
    // Two of the four clean clicks converted (the learned statistics count clicks not FRAUD at click time).
    expect(res.body).toMatchObject({ propertyConversionRate: 0.5, sources: [] });
  });
});

describe('GET /v1/property/{id}/calibration', () => {
  const calibration = (apiKey = rk(), query = '') =>
    stack.fetchJson(`/v1/property/${id()}/calibration${query}`, { apiKey });

  it('counts clicks by at-click band, decile and rule, and the trusted conversions among them', async () => {
    const res = await calibration();
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({
      range: '90days',
      to: new Date().toISOString().slice(0, 10),
      timezone: 'UTC',
      thresholds: { suspicious: expect.any(Number), fraud: expect.any(Number) },
      basis: expect.stringContaining('trusted'),
      total: { clicks: 7, conversions: 2, conversionRate: 0.2857 },
    });
    // Every seeded click's at-click verdict, as the click explorer shows it, decides where it counts.
    interface Explained {
      clickId: string;
      atClick: { label: string; score: number; rules: string[] };
    }
    const explained: Explained[] = [];
    for (const clickId of [...seeded.cleanClickIds, ...seeded.fraudClickIds]) {
      const one = await stack.fetchJson(`/v1/property/${id()}/clicks/search`, { apiKey: rk(), body: { clickId } });
      explained.push(one.body.clicks[0] as Explained);
    }
    const converted = (clickId: string) => seeded.convertedClickIds.includes(clickId);
    const expected = (keyOf: (c: Explained) => string[]) => {
      const tally = new Map<string, { clicks: number; conversions: number }>();
      for (const click of explained) {
        for (const key of keyOf(click)) {
          const row = tally.get(key) ?? { clicks: 0, conversions: 0 };
          row.clicks++;
          if (converted(click.clickId)) row.conversions++;
          tally.set(key, row);
        }
      }
      return tally;
    };
    const bands = expected((c) => [c.atClick.label]);
    for (const band of body.bands as { band: string; clicks: number; conversions: number }[]) {
      expect({ clicks: band.clicks, conversions: band.conversions }).toEqual(
        bands.get(band.band) ?? { clicks: 0, conversions: 0 },
      );
    }
    const deciles = expected((c) => [String(Math.min(9, Math.floor(c.atClick.score / 10)))]);
    expect(body.deciles).toHaveLength(10);
    body.deciles.forEach((d: { clicks: number; conversions: number }, i: number) => {
      expect({ clicks: d.clicks, conversions: d.conversions }).toEqual(
        deciles.get(String(i)) ?? { clicks: 0, conversions: 0 },
      );
    });
    expect(body.deciles[0]).toMatchObject({ fromScore: 0, toScore: 9 });
    expect(body.deciles[9]).toMatchObject({ fromScore: 90, toScore: 100 });
    const rules = expected((c) => [...new Set(c.atClick.rules)]);
    expect(
      Object.fromEntries(
        body.rules.map((r: { rule: string; clicks: number; conversions: number }) => [
          r.rule,
          { clicks: r.clicks, conversions: r.conversions },
        ]),
      ),
    ).toEqual(Object.fromEntries(rules));
    const fraud = body.bands.find((b: { band: string }) => b.band === 'FRAUD');
    expect(fraud).toMatchObject({ conversions: 0, conversionRate: 0 });
    expect(fraud.clicks).toBeGreaterThanOrEqual(1);
    const clean = body.bands.find((b: { band: string }) => b.band === 'CLEAN');
    expect(clean.conversions).toBe(2);
    expect(clean.conversionRate).toBeCloseTo(2 / clean.clicks, 4);
    // The secret key reads the same figures; a shorter range too (all seeded today).
    expect((await calibration(seeded.property.secretKey)).body).toEqual(body);
    const week = await calibration(rk(), '?range=7days');
    expect(week.body.total).toEqual(body.total);
  });

  it("counts conversions claimed with the public key nowhere, and is not the public key's or another property's", async () => {
    const own = await seedTraffic(stack, { clean: 2, fraud: 1, firstHost: 140, conversions: 0 });
    const fraudVisitor = (
      await stack.fetchJson(`/v1/property/${own.property.id}/clicks/search`, {
        apiKey: own.property.secretKey,
        body: { clickId: own.fraudClickIds[0] },
      })
    ).body.clicks[0].visitorId;
    // The fraudster's view: the public key is in the landing page; claim conversions to look like a buyer.
    for (const gclid of [own.fraudGclid, undefined]) {
      const claim = await stack.fetchJson('/v1/events', {
        body: {
          tracking_key: own.property.publicKey,
          type: 'conversion',
          visitorId: fraudVisitor,
          ...(gclid ? { gclid } : {}),
        },
        headers: { 'x-forwarded-for': DATACENTER_IP },
      });
      expect(claim.status).toBeLessThan(300);
    }
    // Then one real conversion; once it is counted, the claims (queued before it) were handled too.
    const real = await stack.fetchJson('/v1/webhook/conversion', {
      body: { click_id: own.cleanClickIds[0] },
      headers: { authorization: `Bearer ${own.property.webhookSecret}` },
    });
    expect(real.status).toBe(200);
    const read = () =>
      stack.fetchJson(`/v1/property/${own.property.id}/calibration`, { apiKey: own.property.readonlyKey });
    await stack.waitFor(async () => (await read()).body.total.conversions === 1, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = (await read()).body;
    expect(after.total).toEqual({ clicks: 3, conversions: 1, conversionRate: 0.3333 });
    expect(after.bands.find((b: { band: string }) => b.band === 'FRAUD').conversions).toBe(0);

    const asPublic = await stack.fetchJson(`/v1/property/${own.property.id}/calibration`, {
      apiKey: own.property.publicKey,
    });
    expect(asPublic.status).toBe(403);
    const cross = await stack.fetchJson(`/v1/property/${own.property.id}/calibration`, { apiKey: rk() });
    expect([cross.status, cross.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await calibration(rk(), '?range=today')).status).toBe(400);
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
    // A key is a string value starting with its prefix; a random property id may contain `pk_` in its middle.
    expect(text).not.toMatch(/keyHash|usageKey|"(sk|rk|pk)_/);
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
