import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../shared/config/env';
import { DynamoClickStore } from '../../shared/store';
import { documentClient } from '../../shared/store/clients';
import { type Credentials, startTestStack, type TestStack } from './support';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
const AWS_IP = '3.5.140.2';
const TOR_IP = '185.220.101.1';
let nextHost = 1;
/** A fresh home address per call (81.2.69.0/24 is an ordinary ISP range in the bundled intel). */
const homeIp = () => `81.2.69.${nextHost++}`;

let stack: TestStack;
let property: Credentials;
const sqs = new SQSClient({});

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  property = await stack.createProperty({ currency: 'VND' });
});

afterAll(async () => {
  await stack.stop();
  sqs.destroy();
});

const click = (body: Record<string, unknown>, from = homeIp(), apiKey?: string) =>
  stack.fetchJson('/v1/click', {
    body: { user_agent: CHROME, ...(apiKey ? {} : { tracking_key: property.publicKey }), ...body },
    headers: { 'x-forwarded-for': from },
    ...(apiKey ? { apiKey } : {}),
  });

const decision = (visitorId: string) =>
  stack.fetchJson(`/v1/decision?visitorId=${visitorId}`, { apiKey: property.secretKey });

const webhook = (body: Record<string, unknown>, secret = property.webhookSecret) =>
  stack.fetchJson('/v1/webhook/conversion', { body, headers: { authorization: `Bearer ${secret}` } });

/** The click as the store reads it (the item leaves out what it can derive). */
const storedClick = (clickId: string) =>
  new DynamoClickStore(documentClient, process.env[ENV.tableName] as string).getClick(clickId);

describe('POST /v1/click', () => {
  it('scores a browser click from a home address clean, with rate-limit headers', async () => {
    const res = await click({ gclid: 'e2e-clean', page_url: 'https://shop.example/?campaignid=77&keyword=shoes' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'clean', action: 'allow', click_id: expect.stringMatching(/^clk_/) });
    expect(res.headers.get('x-ratelimit-limit')).toBeTruthy();
    const stored = await storedClick(res.body.click_id);
    expect(stored?.valueTrack).toEqual({ campaignid: '77', keyword: 'shoes' });
  });

  it('honours a body ip only with the secret key', async () => {
    const withSecret = await click({ ip: AWS_IP, user_agent: HEADLESS }, homeIp(), property.secretKey);
    expect(withSecret.body).toMatchObject({ status: 'fraud', action: 'block' });
    const from = homeIp();
    const withPublic = await click({ ip: TOR_IP });
    expect(withPublic.body.reasons.map((r: { rule: string }) => r.rule)).not.toContain('tor_exit');
    const stored = await storedClick(withPublic.body.click_id);
    expect(stored).toMatchObject({ claimedIp: TOR_IP });
    expect(stored?.ip).not.toBe(TOR_IP);
    expect(from).not.toBe(TOR_IP);
  });

  it('records a click retried with the same Idempotency-Key once, and refuses an over-long key', async () => {
    const own = await stack.createProperty({ currency: 'VND' });
    const send = (key: string, from = homeIp()) =>
      stack.fetchJson('/v1/click', {
        body: { user_agent: CHROME, gclid: 'e2e-retry', tracking_key: own.publicKey },
        headers: { 'x-forwarded-for': from, 'idempotency-key': key },
      });
    const first = await send('click-retry-1');
    const retry = await send('click-retry-1');
    expect(first.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    // Counted off the request path by the click counter, within seconds; and only once.
    await stack.waitFor(
      async () =>
        (await stack.fetchJson(`/v1/property/${own.id}/stats`, { apiKey: own.secretKey })).body.totalDecisions === 1,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stats = await stack.fetchJson(`/v1/property/${own.id}/stats`, { apiKey: own.secretKey });
    expect(stats.body.totalDecisions).toBe(1);
    const tooLong = await send('k'.repeat(257));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toMatchObject({ details: { fields: { 'Idempotency-Key': expect.any(String) } } });
  });

  it('answers 401 without a key and 400 naming the field for a bad body', async () => {
    const noKey = await stack.fetchJson('/v1/click', { body: { gclid: 'x' } });
    expect(noKey.status).toBe(401);
    const bad = await click({ visitor_id: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      code: 'INVALID_REQUEST',
      details: { fields: { visitor_id: expect.any(String) } },
    });
  });
});

describe('POST /v1/events', () => {
  it('assigns a visitor id and records a retried event once', async () => {
    const body = { type: 'page_view', url: 'https://shop.example/a', tracking_key: property.publicKey };
    const first = await stack.fetchJson('/v1/events', { body, headers: { 'x-forwarded-for': '81.2.69.200' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      success: true,
      eventId: expect.stringMatching(/^evt_/),
      visitorId: expect.stringMatching(/^vis_/),
    });
    const retry = await stack.fetchJson('/v1/events', { body, headers: { 'x-forwarded-for': '81.2.69.200' } });
    expect(retry.body).toEqual(first.body);
  });
});

describe('beacons re-score through SQS', () => {
  it('turns a clean click into FRAUD once the honeypot beacon is scored', async () => {
    const res = await click({});
    expect(res.body.status).toBe('clean');
    const visitorId: string = res.body.visitor_id;
    const beacon = await stack.fetch('/v1/click/beacon', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'x-forwarded-for': homeIp() },
      body: JSON.stringify({
        tracking_key: property.publicKey,
        click_id: res.body.click_id,
        honeypot: true,
        time_on_page: 0.3,
      }),
    });
    expect(beacon.status).toBe(204);
    const fraud = await stack.waitFor(async () => {
      const d = await decision(visitorId);
      return d.body.label === 'FRAUD' ? d.body : undefined;
    }, 20_000);
    expect(fraud.action).toBe('BLOCK');
    expect(fraud.reasons.map((r: { rule: string }) => r.rule)).toContain('honeypot');
  });

  it('applies the same beacon message delivered twice only once', async () => {
    const res = await click({});
    // 1, or 2 when the click path corrected the stored click (a repeat address: its counts changed its verdict).
    const stored = (await storedClick(res.body.click_id))?.version ?? 1;
    const message = JSON.stringify({
      kind: 'beacon',
      beaconId: `dup-${res.body.click_id}`,
      propertyId: property.id,
      clickId: res.body.click_id,
      receivedAt: Date.now(),
      behaviour: { scrollDepth: 0, timeOnPageSeconds: 0.5 },
    });
    for (let i = 0; i < 2; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.beacons.url, MessageBody: message }));
    }
    await stack.waitFor(async () => (await storedClick(res.body.click_id))?.version === stored + 1, 20_000);
    // Both deliveries are consumed (the queue is empty); the click moved once: the conditional write is the guard.
    await stack.waitFor(async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.queues.beacons.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Attributes?.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0'
      );
    }, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await storedClick(res.body.click_id))?.version).toBe(stored + 1);
  });
});

describe('POST /v1/webhook/conversion', () => {
  it('records a conversion by gclid once (409 after), 404 for an unknown gclid, 401 for a bad secret', async () => {
    const res = await click({ gclid: 'conv-1' }, AWS_IP);
    expect(res.body.status).toBe('suspicious');
    const ok = await webhook({ gclid: 'conv-1', value: 1500000, order_id: 'DH-1', event_name: 'purchase' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ success: true, click_id: res.body.click_id, message: 'conversion recorded' });
    expect((await webhook({ gclid: 'conv-1' })).status).toBe(409);
    const other = await click({ gclid: 'conv-2' });
    const sameOrder = await webhook({ click_id: other.body.click_id, order_id: 'DH-1' });
    expect(sameOrder.status).toBe(409);
    expect(sameOrder.body.code).toBe('CONFLICT');
    expect((await webhook({ gclid: 'never-seen' })).status).toBe(404);
    expect((await webhook({ gclid: 'conv-2' }, 'whsec_wrong')).status).toBe(401);
    // The conversion scorer lowers the converted visitor's score.
    const converted = await stack.waitFor(async () => {
      const d = await decision(res.body.visitor_id);
      return d.body.reasons?.some((r: { rule: string }) => r.rule === 'converted') ? d.body : undefined;
    }, 20_000);
    expect(converted.score).toBeLessThan(res.body.score);
  });
});

describe('click tokens and bot verdicts', () => {
  it('issues a token, 404s the verdict until a visit carries it, then answers it', async () => {
    const issued = await stack.fetchJson('/v1/click-tokens', {
      apiKey: property.secretKey,
      body: { provider: 'acme-network', campaign: 'spring', ttl_seconds: 3600 },
    });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ click_token: expect.stringMatching(/^ct_/), expires_at: expect.any(String) });
    const token: string = issued.body.click_token;
    const appHeaders = { 'x-app-key': property.publicKey, 'x-app-secret': property.secretKey };
    const before = await stack.fetchJson(`/v1/bot/verdict?click_token=${encodeURIComponent(token)}`, {
      headers: appHeaders,
    });
    expect(before.status).toBe(404);
    const forged = await stack.fetchJson(`/v1/bot/verdict?click_token=${encodeURIComponent(`${token}A`)}`, {
      headers: appHeaders,
    });
    expect(forged.status).toBe(404);
    await click({ click_token: token, page_url: 'https://shop.example/?utm_campaign=spring' });
    const verdict = await stack.fetchJson(`/v1/bot/verdict?click_token=${encodeURIComponent(token)}`, {
      headers: appHeaders,
    });
    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({
      code: 0,
      data: { is_bot: false, level: 'low', action: 'record_only', consistency: { ok: true }, degraded: true },
    });
  });
});

describe('GET /v1/decision and /v1/ip-check', () => {
  it('404s an unknown visitor and another property’s visitor', async () => {
    expect((await decision('vis_unknownvisitor')).status).toBe(404);
    const res = await click({});
    const other = await stack.createProperty();
    const foreign = await stack.fetchJson(`/v1/decision?visitorId=${res.body.visitor_id}`, { apiKey: other.secretKey });
    expect(foreign.status).toBe(404);
  });

  it('answers ClickPatrol flags with ?token=, 400 for an invalid address', async () => {
    const tor = await stack.fetchJson(`/v1/ip-check?token=${property.secretKey}&ip=${TOR_IP}`);
    expect(tor.status).toBe(200);
    expect(tor.body).toMatchObject({ tor: true, trusted_ai_score: 'Fake' });
    const ua = encodeURIComponent(HEADLESS);
    const bot = await stack.fetchJson(`/v1/ip-check?token=${property.secretKey}&ip=${AWS_IP}&user_http_header=${ua}`);
    expect(bot.body).toMatchObject({ proxy: true, bot: true, trusted_ai_score: 'Fake' });
    const bad = await stack.fetchJson(`/v1/ip-check?token=${property.secretKey}&ip=1.2.3.999`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_REQUEST');
  });
});
