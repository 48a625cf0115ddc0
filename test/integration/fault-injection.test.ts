import { clickStores } from '../../shared/store';
import { documentClient } from '../../shared/store/clients';
import { startTestStack, type TestStack } from './support';

/**
 * Fault injection at the HTTP level: a share of the click path's DynamoDB calls (velocity, click, visitor,
 * indexes, the click counter's reads and writes) is throttled before it reaches DynamoDB, or times out
 * after DynamoDB applied it — the caller sees a failure either way, as with a Lambda timeout. Clients retry
 * a 5xx with the same Idempotency-Key, as the API asks. Every 200 must be stored exactly once and counted
 * exactly once, and every refusal must be a 5xx in the contract's error body.
 */
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const FAULTY_FAMILIES = new Set(['VEL', 'CLK', 'VIS', 'GCLID', 'TOKEN', 'CNT', 'STAT', 'IPREP']);
const CLICKS = 40;

let stack: TestStack;
let faults = false;
let removeFaults: () => void = () => {};
let seed = 12_345;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const injected = { throttled: 0, timedOut: 0 };

function familyOf(input: Record<string, unknown>): string {
  const item = (input.Key ?? input.Item) as { pk?: unknown } | undefined;
  if (item?.pk) return String(item.pk).split('#')[0]!;
  const transact = input.TransactItems as Array<Record<string, { Key?: { pk?: unknown }; Item?: { pk?: unknown } }>>;
  const first = transact?.[0] && Object.values(transact[0])[0];
  if (first) return String((first.Key ?? first.Item)?.pk ?? '').split('#')[0]!;
  const batch = input.RequestItems as Record<string, { Keys?: Array<{ pk?: unknown }> }> | undefined;
  const key = batch && Object.values(batch)[0]?.Keys?.[0];
  return key ? String(key.pk).split('#')[0]! : '';
}

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  removeFaults = documentClient.intercept(async (command, next) => {
    if (!faults || !FAULTY_FAMILIES.has(familyOf(command.input as Record<string, unknown>))) return next();
    const dice = random();
    if (dice < 0.1) {
      injected.throttled++;
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ThrottlingException',
      });
    }
    const result = await next();
    if (dice < 0.2) {
      injected.timedOut++;
      throw Object.assign(new Error('socket timed out after the write'), { name: 'TimeoutError' });
    }
    return result;
  });
}, 120_000);

afterAll(async () => {
  removeFaults();
  await stack.stop();
});

/**
 * `clients` send CLICKS clicks through the faults, each retried up to eight times: with the same Idempotency-Key
 * (`keyed`), or as a plain server-side click carrying its gclid (a retry after a failure whose write went through
 * is then a reuse of that gclid: stored and counted as a click of its own). Every 200 must be stored exactly
 * once and counted exactly once, and every refusal must be a 5xx (or the keyed path's 409) in the error body.
 */
async function clicksThroughFaults(keyed: boolean) {
  const property = await stack.createProperty({ currency: 'USD' });
  const prefix = keyed ? 'fault' : 'unkeyed';
  const answered = new Map<string, string>();
  const refusals: Array<{ status: number; body: unknown }> = [];
  const before = { ...injected };
  faults = true;
  let next = 0;
  const send = async (i: number) => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const res = await stack.fetchJson('/v1/click', {
        body: { user_agent: CHROME, gclid: `${prefix}-${i}`, visitor_id: `vis_${prefix}${i % 5}` },
        headers: {
          'x-forwarded-for': `81.2.${keyed ? 70 : 71}.${i + 1}`,
          ...(keyed ? { 'idempotency-key': `${prefix}-click-${i}` } : {}),
        },
        apiKey: property.secretKey,
      });
      if (res.status === 200) {
        answered.set(`${prefix}-${i}`, res.body.click_id);
        return;
      }
      refusals.push({ status: res.status, body: res.body });
    }
  };
  // Eight clients at a time, each retrying its click.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < CLICKS; i = next++) await send(i);
    }),
  );
  faults = false;

  expect(injected.throttled + injected.timedOut - before.throttled - before.timedOut).toBeGreaterThan(10);
  expect(refusals.length).toBeGreaterThan(0);
  for (const refusal of refusals) {
    // A conflict while an attempt is still in flight is the contract's "retry shortly" (409); all else is 5xx.
    expect(keyed ? [409, 500, 503] : [500, 503]).toContain(refusal.status);
    expect(refusal.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
  }
  // At a 20 % fault rate on every call some clicks exhaust their eight attempts; most get through.
  expect(answered.size).toBeGreaterThan(CLICKS / 2);

  const { clicks, rollups } = clickStores();
  const stored = new Map<string, number>();
  const from = Date.now() - 3_600_000;
  for await (const click of clicks.clicksInRange(property.id, from, Date.now() + 60_000)) {
    stored.set(click.clickId, (stored.get(click.clickId) ?? 0) + 1);
  }
  for (const clickId of answered.values()) expect(stored.get(clickId)).toBe(1);
  // No click is stored twice. Keyed: a click stored by an attempt whose answer failed is one of its key's, once.
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
  if (keyed) expect(stored.size).toBeLessThanOrEqual(CLICKS);
  // Unkeyed, the retries did reuse gclids whose earlier attempt was stored (one in ten calls times out after its write).
  else expect(stored.size).toBeGreaterThan(answered.size);

  // The click counter retries what failed under the faults; then every stored click is counted once.
  const today = new Date().toISOString().slice(0, 10);
  const counted = async () => (await rollups.readDays(property.id, [today])).get(today)!.clicks;
  await stack.waitFor(async () => (await counted()) >= stored.size, 120_000, 1_000);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(await counted()).toBe(stored.size);
}

it('stores and counts every answered click exactly once, stats equal to the stored clicks, refusals 5xx in the error body', async () => {
  await clicksThroughFaults(true);
}, 240_000);

it('does the same for plain clicks carrying a gclid, whose retries reuse it', async () => {
  await clicksThroughFaults(false);
}, 240_000);
