import { ENV, requireEnv } from '../../shared/config/env';
import { GetCommand, QueryCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * Issue 8, tried as a fraudster would: with only the property's public key (it is in every landing
 * page), or only the tenant's own secret key. Every attack goes through the local stack over HTTP.
 */
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
/** An AWS address: a headless browser from there scores FRAUD. */
const AWS_IP = '3.5.140.2';
let nextHost = 1;
const homeIp = () => `81.2.69.${nextHost++}`;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
});

afterAll(async () => {
  await stack.stop();
});

const publicCall = (property: Credentials, path: string, body: Record<string, unknown>, from: string, headers = {}) =>
  stack.fetchJson(path, {
    body: { tracking_key: property.publicKey, ...body },
    headers: { 'x-forwarded-for': from, ...headers },
  });

const decision = (property: Credentials, visitorId: string) =>
  stack.fetchJson(`/v1/decision?visitorId=${visitorId}`, { apiKey: property.secretKey });

const blocklisted = async (property: Credentials, ip: string) => {
  const res = await stack.fetchJson(`/v1/property/${property.id}/blocklist?days=1`, { apiKey: property.secretKey });
  expect(res.status).toBe(200);
  return (res.body.blocklist as { ip: string }[]).some((entry) => entry.ip === ip);
};

describe('a public-key conversion cannot whitewash fraud', () => {
  it('is accepted as an event but never lowers the score, frees the address or pre-empts the real conversion', async () => {
    const property = await stack.createProperty();
    const control = await stack.createProperty();
    const fraud = await stack.fetchJson('/v1/click', {
      apiKey: property.secretKey,
      body: { ip: AWS_IP, user_agent: HEADLESS, gclid: 'adv-fraud-1' },
    });
    expect(fraud.body).toMatchObject({ status: 'fraud' });
    const visitorId = fraud.body.visitor_id as string;
    const before = await decision(property, visitorId);
    expect(before.body.label).toBe('FRAUD');
    // The blocklist's inputs are counted off the request path (the click counter), within seconds.
    await stack.waitFor(() => blocklisted(property, AWS_IP), 60_000);

    // The attack: a conversion event with the public key, from the fraudster's own address.
    const whitewash = await publicCall(
      property,
      '/v1/events',
      { type: 'conversion', visitorId, gclid: 'adv-fraud-1', data: { value: 10 } },
      AWS_IP,
    );
    expect(whitewash.status).toBe(200);
    expect(whitewash.body).toMatchObject({ success: true, visitorId });

    // The same conversion sent with the secret key on another property does teach: once it has been
    // applied, the untrusted message queued before it has been consumed too.
    const controlClick = await stack.fetchJson('/v1/click', {
      apiKey: control.secretKey,
      body: { ip: AWS_IP, user_agent: HEADLESS, gclid: 'adv-control-1' },
    });
    const controlVisitor = controlClick.body.visitor_id as string;
    const trusted = await stack.fetchJson('/v1/events', {
      apiKey: control.secretKey,
      body: { type: 'conversion', visitorId: controlVisitor, gclid: 'adv-control-1' },
    });
    expect(trusted.status).toBe(200);
    await stack.waitFor(async () => (await decision(control, controlVisitor)).body.score < controlClick.body.score);

    const after = await decision(property, visitorId);
    expect(after.body).toMatchObject({ label: 'FRAUD', score: before.body.score });
    expect(after.body.reasons.map((r: { rule: string }) => r.rule)).not.toContain('converted');
    expect(await blocklisted(property, AWS_IP)).toBe(true);
    // Nothing was recorded against the click: the advertiser's own conversion is still accepted.
    const real = await stack.fetchJson('/v1/webhook/conversion', {
      body: { gclid: 'adv-fraud-1', order_id: 'real-1' },
      headers: { authorization: `Bearer ${property.webhookSecret}` },
    });
    expect(real.status).toBe(200);
  });
});

describe("a public-key caller cannot capture a server's idempotent click", () => {
  it('keeps the key spaces of the public and the secret key apart', async () => {
    const property = await stack.createProperty();
    const captured = await publicCall(property, '/v1/click', { user_agent: HEADLESS, gclid: 'adv-idem' }, AWS_IP, {
      'idempotency-key': 'order-77',
    });
    expect(captured.status).toBe(200);
    const server = await stack.fetchJson('/v1/click', {
      apiKey: property.secretKey,
      body: { ip: '81.2.69.250', user_agent: CHROME, gclid: 'adv-idem-server' },
      headers: { 'idempotency-key': 'order-77' },
    });
    expect(server.status).toBe(200);
    expect(server.body.click_id).not.toBe(captured.body.click_id);
    expect(server.body.status).toBe('clean');
    // The server's retry answers the server's own click.
    const retry = await stack.fetchJson('/v1/click', {
      apiKey: property.secretKey,
      body: { ip: '81.2.69.250', user_agent: CHROME, gclid: 'adv-idem-server' },
      headers: { 'idempotency-key': 'order-77' },
    });
    expect(retry.body).toEqual(server.body);

    // The same holds for events: the secret key's event is its own, not the public key's earlier one.
    const pub = await publicCall(property, '/v1/events', { type: 'page_view' }, AWS_IP, { 'idempotency-key': 'e-1' });
    const sec = await stack.fetchJson('/v1/events', {
      apiKey: property.secretKey,
      body: { type: 'page_view', visitorId: 'vis_server1' },
      headers: { 'idempotency-key': 'e-1' },
    });
    expect(sec.body.eventId).not.toBe(pub.body.eventId);
    expect(sec.body.visitorId).toBe('vis_server1');
  });
});

describe('one validation for every caller', () => {
  it('answers 400 naming ip for a malformed address, with the public key as with the secret key', async () => {
    const property = await stack.createProperty();
    const viaPublic = await publicCall(property, '/v1/click', { ip: 'not-an-ip' }, homeIp());
    const viaSecret = await stack.fetchJson('/v1/click', { apiKey: property.secretKey, body: { ip: 'not-an-ip' } });
    const viaEvent = await publicCall(property, '/v1/events', { type: 'page_view', ip: 'not-an-ip' }, homeIp());
    for (const res of [viaPublic, viaSecret, viaEvent]) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_REQUEST', details: { fields: { ip: expect.any(String) } } });
    }
  });
});

describe("the operator's settings are the operator's", () => {
  const putConfig = (property: Credentials, body: Record<string, unknown>, as: 'admin' | 'tenant') =>
    stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      body,
      ...(as === 'admin' ? { admin: true } : { apiKey: property.secretKey }),
    });

  it('refuses a tenant upgrading its own plan, and lets the admin change it', async () => {
    const property = await stack.createProperty({ plan: 'starter' });
    const upgrade = await putConfig(property, { plan: 'network' }, 'tenant');
    expect(upgrade.status).toBe(403);
    expect(upgrade.body).toMatchObject({ code: 'FORBIDDEN', details: { fields: { plan: expect.any(String) } } });
    const config = await stack.fetchJson(`/v1/properties/${property.id}/config`, { apiKey: property.secretKey });
    expect(config.body.plan).toBe('starter');
    // The plan as it is, sent back with other changes, is no change of plan.
    expect((await putConfig(property, { plan: 'starter', monitorOnly: true }, 'tenant')).status).toBe(200);
    const byAdmin = await putConfig(property, { plan: 'growth' }, 'admin');
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.plan).toBe('growth');
  });

  it('refuses a tenant pointing the push at another ad account; the tenant may toggle it and pick campaigns', async () => {
    const property = await stack.createProperty();
    const hijack = { provider: 'google_ads', customerId: '999-999-9999', loginCustomerId: '111-111-1111' };
    const create = await putConfig(property, { adAccount: hijack }, 'tenant');
    expect(create.status).toBe(403);
    const link = { provider: 'google_ads', customerId: '123-456-7890', loginCustomerId: '222-333-4444' };
    expect((await putConfig(property, { adAccount: link }, 'admin')).status).toBe(200);

    const retarget = await putConfig(property, { adAccount: { ...link, customerId: '999-999-9999' } }, 'tenant');
    expect(retarget.status).toBe(403);
    expect(retarget.body.details.fields).toHaveProperty(['adAccount.customerId']);
    const manager = await putConfig(property, { adAccount: { ...link, loginCustomerId: '111-111-1111' } }, 'tenant');
    expect(manager.status).toBe(403);
    expect(manager.body.details.fields).toHaveProperty(['adAccount.loginCustomerId']);
    expect((await putConfig(property, { adAccount: null }, 'tenant')).status).toBe(403);

    const toggled = await putConfig(
      property,
      { adAccount: { ...link, customerId: '1234567890', enabled: false, campaignIds: ['42'] } },
      'tenant',
    );
    expect(toggled.status).toBe(200);
    expect(toggled.body.adAccount).toMatchObject({ customerId: '123-456-7890', enabled: false, campaignIds: ['42'] });
  });
});

describe('the admin rotates the public key', () => {
  it('stops the old public key at once and leaves the secrets alone', async () => {
    const property = await stack.createProperty();
    const from = homeIp();
    expect((await publicCall(property, '/v1/click', { user_agent: CHROME }, from)).status).toBe(200);
    const rotated = await stack.fetchJson(`/v1/properties/${property.id}/rotate-keys`, {
      admin: true,
      body: { which: 'public' },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({
      id: property.id,
      publicKey: expect.stringMatching(/^pk_/),
      rotatedAt: expect.any(String),
    });
    expect((await publicCall(property, '/v1/click', { user_agent: CHROME }, from)).status).toBe(401);
    const viaHeader = await stack.fetchJson('/v1/click/beacon', {
      apiKey: property.publicKey,
      body: { click_id: 'clk_x' },
    });
    expect(viaHeader.status).toBe(401);
    const fresh = await stack.fetchJson('/v1/click', {
      body: { tracking_key: rotated.body.publicKey, user_agent: CHROME },
      headers: { 'x-forwarded-for': from },
    });
    expect(fresh.status).toBe(200);
    const config = await stack.fetchJson(`/v1/properties/${property.id}/config`, { apiKey: property.secretKey });
    expect(config.status).toBe(200);
  });
});

describe('refused requests cannot switch the property off', () => {
  /** Requests the meter admitted this month: the sum of its hour items (one shard on the starter plan). */
  const admitted = async (property: Credentials) => {
    const { Items = [] } = await documentClient.send(
      new QueryCommand({
        TableName: requireEnv(ENV.tableName),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `METER#${property.id}#0` },
      }),
    );
    return Items.reduce((sum, item) => sum + Number(item.t ?? 0), 0);
  };

  it('1,000 refused public-key requests from one address spend neither the minute budget nor the allowance', async () => {
    const property = await stack.createProperty({ plan: 'starter' });
    const from = '81.2.69.240';
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          publicCall(property, i % 2 ? '/v1/click' : '/v1/events', { ip: 'not-an-ip', type: 'page_view' }, from),
        ),
      );
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].sort()).toEqual([400, 429]);
    expect((statuses.get(400) ?? 0) + (statuses.get(429) ?? 0)).toBe(1000);
    // 50 attempts per address per 5 s pass on to validation; everything else is refused from memory.
    expect(statuses.get(429)).toBeGreaterThan(500);
    expect(await admitted(property)).toBe(0);

    // The advertiser's server is unaffected, with the plan's minute budget whole.
    const server = await stack.fetchJson('/v1/click', {
      apiKey: property.secretKey,
      body: { ip: '81.2.69.241', user_agent: CHROME },
    });
    expect(server.status).toBe(200);
    expect(server.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(server.headers.get('x-ratelimit-remaining'))).toBe(999);
    // Another visitor's browser, from another address, is unaffected too.
    const browser = await publicCall(property, '/v1/click', { user_agent: CHROME }, '81.2.69.242');
    expect(browser.status).toBe(200);
    expect(Number(browser.headers.get('x-ratelimit-remaining'))).toBe(998);
    // The minute's first request was written at once; the second waits in the container's batch (N = 20).
    expect(await admitted(property)).toBeGreaterThanOrEqual(1);
    expect(await admitted(property)).toBeLessThanOrEqual(2);
  });
});

describe("an actor's statistics learn only from the advertiser, and only about that actor", () => {
  /** The actor item's lifetime clicks (`n`) and trusted conversions (`conv`), as the service keeps them. */
  const actor = async (property: Credentials, family: 'ip' | 'net', subject: string) => {
    const { Item } = await documentClient.send(
      new GetCommand({
        TableName: requireEnv(ENV.countersTableName),
        Key: { pk: `VEL#${property.id}#${family}#${subject}`, sk: 'VEL' },
      }),
    );
    return { n: Number(Item?.n ?? 0), conv: Number(Item?.conv ?? 0) };
  };

  it('public-key conversions teach nothing; public-key clicks count on their own address, never on a neighbour', async () => {
    const property = await stack.createProperty();
    const attacker = '81.2.70.7';
    const neighbour = '81.2.70.8';
    for (let i = 0; i < 5; i++) {
      const click = await publicCall(
        property,
        '/v1/click',
        { user_agent: CHROME, gclid: `adv-actor-${i}`, visitor_id: 'vis_actor_attacker' },
        attacker,
      );
      expect(click.status).toBe(200);
    }
    // "Conversions" claimed with the public key, for the attacker's own clicks.
    for (let i = 0; i < 5; i++) {
      const claim = await publicCall(
        property,
        '/v1/events',
        { type: 'conversion', visitorId: 'vis_actor_attacker', gclid: `adv-actor-${i}` },
        attacker,
      );
      expect(claim.status).toBe(200);
    }
    // The advertiser's own conversion of the neighbour's click, queued after them: once it is applied, the
    // claims queued before it have been consumed as well.
    const real = await publicCall(property, '/v1/click', { user_agent: CHROME, gclid: 'adv-actor-real' }, neighbour);
    const webhook = await stack.fetchJson('/v1/webhook/conversion', {
      body: { gclid: 'adv-actor-real', order_id: 'actor-real-1' },
      headers: { authorization: `Bearer ${property.webhookSecret}` },
    });
    expect(webhook.status).toBe(200);
    await stack.waitFor(async () => (await actor(property, 'ip', neighbour)).conv === 1, 60_000);

    expect(await actor(property, 'ip', attacker)).toEqual({ n: 5, conv: 0 });
    expect(await actor(property, 'ip', neighbour)).toEqual({ n: 1, conv: 1 });
    expect(await actor(property, 'net', '81.2.70.0/24')).toEqual({ n: 6, conv: 1 });
    // The neighbour's click was judged on its own address: none of the attacker's clicks counted against it.
    expect(real.body).toMatchObject({ status: 'clean' });
    expect((real.body.reasons as { details: string }[]).some((r) => r.details.includes(attacker))).toBe(false);
  });
});

describe("a public-key caller replaying a gclid cannot take its first click's place", () => {
  it('gets every replay stored as a duplicate of its own, while conversions still go to the first click', async () => {
    const property = await stack.createProperty();
    const first = await stack.fetchJson('/v1/click', {
      apiKey: property.secretKey,
      body: { ip: '81.2.69.240', user_agent: CHROME, gclid: 'adv-gclid-1', visitor_id: 'vis_adv_first' },
    });
    expect(first.body).toMatchObject({ status: 'clean' });
    // The gclid is in the landing page's URL: anyone can replay it with the public key, as often as the meter allows.
    const replays = [];
    for (let i = 0; i < 4; i++) {
      replays.push(await publicCall(property, '/v1/click', { user_agent: CHROME, gclid: 'adv-gclid-1' }, homeIp()));
    }
    const ids = new Set([first.body.click_id, ...replays.map((replay) => replay.body.click_id)]);
    expect(ids.size).toBe(5);
    for (const replay of replays) {
      expect(replay.status).toBe(200);
      expect(replay.body.reasons.map((r: { rule: string }) => r.rule)).toContain('duplicate_gclid');
    }
    // The first click's visitor still sees its own, clean click; the advertiser's conversion names the first click.
    expect((await decision(property, 'vis_adv_first')).body).toMatchObject({ label: 'CLEAN' });
    const conversion = await stack.fetchJson('/v1/webhook/conversion', {
      body: { gclid: 'adv-gclid-1', order_id: 'adv-order-1' },
      headers: { authorization: `Bearer ${property.webhookSecret}` },
    });
    expect(conversion.status).toBe(200);
    expect(conversion.body.click_id).toBe(first.body.click_id);
    // Another property's first use of the same gclid is its own.
    const other = await stack.createProperty();
    const elsewhere = await publicCall(other, '/v1/click', { user_agent: CHROME, gclid: 'adv-gclid-1' }, homeIp());
    expect(elsewhere.body.reasons.map((r: { rule: string }) => r.rule)).not.toContain('duplicate_gclid');
    // Every replay is stored and counted once, like any click.
    await stack.waitFor(async () => {
      const stats = await stack.fetchJson(`/v1/property/${property.id}/stats`, { apiKey: property.secretKey });
      return stats.body.totalDecisions === 5;
    }, 60_000);
  });
});
