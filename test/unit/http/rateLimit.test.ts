import fc from 'fast-check';
import type { ApiError } from '../../../shared/http/errors';
import {
  AddressWindows,
  createRateMeter,
  DEFAULT_BATCHING,
  estimateTotal,
  exactZone,
  type MeteredError,
  rateLimitHeaders,
  rateState,
  retryAfterSeconds,
  shardCount,
  windowStart,
} from '../../../shared/http/rateLimit';
import type { Plan } from '../../../shared/plans';
import { routes } from '../../../shared/routes';
import { MemoryMeterStore } from '../../../shared/store/meter';

const tiny: Plan = { id: 'tiny', name: 'Tiny', ratePerMinute: 3, burst: 3, monthlyAllowance: 5 };
const secret = { kind: 'secret' as const, propertyId: 'prop_a', planId: 'tiny' };
const T0 = Date.UTC(2026, 5, 10, 12, 0, 10);

describe('rate meter math', () => {
  it('never reports a negative remainder, and reports the exact one below the limit', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.nat(2_000_000), (limit, used) => {
        const state = rateState(limit, used, 60);
        expect(state.remaining).toBeGreaterThanOrEqual(0);
        if (used <= limit) expect(state.remaining).toBe(limit - used);
        expect(Number(rateLimitHeaders(state)['X-RateLimit-Remaining'])).toBe(state.remaining);
      }),
    );
  });

  it('spreads large plans over shards of at most 6,000 a minute; a 1,000/min plan uses one', () => {
    expect(shardCount(1000)).toBe(1);
    expect(shardCount(6000)).toBe(1);
    expect(shardCount(60_000)).toBe(10);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (rate) => {
        const shards = shardCount(rate);
        expect(rate / shards).toBeLessThanOrEqual(6000);
        expect(shards === 1 || rate / (shards - 1) > 6000).toBe(true);
      }),
    );
  });

  it('estimates the total from one shard: exact with one shard, unbiased with many', () => {
    fc.assert(fc.property(fc.nat(100_000), (count) => expect(estimateTotal(count, 1)).toBe(count)));
    // Uniformly spread requests: the mean of the per-shard estimates is the true total.
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 20 }), (perShard) => {
        const total = perShard.reduce((a, b) => a + b, 0);
        const mean = perShard.reduce((sum, count) => sum + estimateTotal(count, perShard.length), 0) / perShard.length;
        expect(mean).toBeCloseTo(total, 6);
      }),
    );
  });

  it('resets windows on their boundary and never asks to retry in 0 seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.constantFrom(5, 60), (now, window) => {
        const start = windowStart(now, window);
        expect(start * 1000).toBeLessThanOrEqual(now);
        expect((start + window) * 1000).toBeGreaterThan(now);
        const retry = retryAfterSeconds(start + window, now);
        expect(retry).toBeGreaterThanOrEqual(1);
        expect(retry).toBeLessThanOrEqual(window);
      }),
    );
  });
});

describe('createRateMeter', () => {
  const meterWith = (store = new MemoryMeterStore(), plan: Plan = tiny) =>
    createRateMeter({ store, plan: (id) => (id === plan.id ? plan : undefined), pickShard: () => 0 });

  async function attempt(promise: Promise<unknown>) {
    try {
      return { state: await promise };
    } catch (error) {
      return { error: error as ApiError & MeteredError };
    }
  }

  it('counts per minute in one write, answers 429 past the plan with Retry-After and the rate headers', async () => {
    const store = new MemoryMeterStore();
    const meter = meterWith(store);
    for (let i = 1; i <= 3; i++) {
      expect(await meter.meter(secret, routes.decision, T0)).toEqual({
        limit: 3,
        remaining: 3 - i,
        reset: Math.floor(T0 / 60_000) * 60 + 60,
      });
    }
    expect(store.writes).toBe(3);
    const { error } = await attempt(meter.meter(secret, routes.decision, T0 + 1000));
    expect(error?.statusCode).toBe(429);
    expect(error?.headers['Retry-After']).toBe('49');
    expect(error?.rate).toMatchObject({ limit: 3, remaining: 0 });
    // The table showed the minute at its cap: refused from memory, no write.
    expect(store.writes).toBe(3);
    // The next minute starts afresh.
    expect(await meter.meter(secret, routes.decision, T0 + 60_000)).toMatchObject({ remaining: 2 });
  });

  it('never counts a refused request against the month: 429s leave the allowance whole', async () => {
    const store = new MemoryMeterStore();
    const meter = meterWith(store);
    for (let i = 0; i < 20; i++) await attempt(meter.meter(secret, routes.decision, T0));
    // 3 admitted in that minute, 17 refused and not counted: 2 of the 5 a month are left.
    expect(await meter.meter(secret, routes.decision, T0 + 60_000)).toBeDefined();
    expect(await meter.meter(secret, routes.decision, T0 + 60_000)).toBeDefined();
    const { error } = await attempt(meter.meter(secret, routes.decision, T0 + 60_000));
    expect(error?.statusCode).toBe(402);
  });

  it('answers 402 once the monthly allowance is spent (across hours), and a new month starts afresh', async () => {
    const meter = meterWith();
    for (let i = 0; i < 5; i++) await meter.meter(secret, routes.ipCheck, T0 + i * 3_600_000);
    const { error } = await attempt(meter.meter(secret, routes.ipCheck, T0 + 10 * 3_600_000));
    expect(error?.statusCode).toBe(402);
    expect(error?.code).toBe('PAYMENT_REQUIRED');
    // A fresh instance (cold start) sees the same month from the table.
    const store = new MemoryMeterStore();
    const first = meterWith(store);
    for (let i = 0; i < 5; i++) await first.meter(secret, routes.ipCheck, T0 + i * 3_600_000);
    const cold = meterWith(store);
    expect((await attempt(cold.meter(secret, routes.ipCheck, T0 + 10 * 3_600_000))).error?.statusCode).toBe(402);
    expect(await cold.meter(secret, routes.ipCheck, Date.UTC(2026, 6, 1))).toBeDefined();
  });

  it('does not meter the admin key', async () => {
    const store = new MemoryMeterStore();
    expect(await meterWith(store).meter({ kind: 'admin' }, routes.createProperty, T0)).toBeUndefined();
    expect(store.writes).toBe(0);
  });

  it('limits public-key browser calls per source address from memory, not secret-key server calls', async () => {
    const roomy: Plan = { ...tiny, id: 'roomy', ratePerMinute: 1000, monthlyAllowance: 1_000_000 };
    const store = new MemoryMeterStore();
    const meter = meterWith(store, roomy);
    const browser = { kind: 'public' as const, propertyId: 'prop_a', planId: 'roomy' };
    for (let i = 0; i < 50; i++) meter.refuseAddress(browser, routes.click, '203.0.113.9', T0);
    expect(() => meter.refuseAddress(browser, routes.click, '203.0.113.9', T0)).toThrow(
      expect.objectContaining({ statusCode: 429, details: expect.objectContaining({ limit: 'source_address' }) }),
    );
    expect(store.writes).toBe(0);
    expect(() => meter.refuseAddress(browser, routes.click, '203.0.113.10', T0)).not.toThrow();
    // The next window starts afresh.
    expect(() => meter.refuseAddress(browser, routes.click, '203.0.113.9', T0 + 5000)).not.toThrow();
    const server = { ...browser, kind: 'secret' as const };
    for (let i = 0; i < 60; i++) meter.refuseAddress(server, routes.click, '203.0.113.9', T0);
  });

  it('forgets the oldest addresses past its bound, so memory never grows with attacker input', () => {
    const windows = new AddressWindows(3);
    for (const ip of ['a', 'b', 'c', 'd']) windows.hit(ip, 0);
    expect(windows.hit('d', 0)).toBe(2);
    expect(windows.hit('a', 0)).toBe(1);
  });

  it('limits the conversion webhook to 100 a minute per property, in the same single write', async () => {
    const roomy: Plan = { ...tiny, id: 'roomy', ratePerMinute: 1000, monthlyAllowance: 1_000_000 };
    const store = new MemoryMeterStore();
    const meter = meterWith(store, roomy);
    const webhook = { kind: 'webhook' as const, propertyId: 'prop_a', planId: 'roomy' };
    for (let i = 0; i < 100; i++) await meter.meter(webhook, routes.conversion, T0);
    const { error } = await attempt(meter.meter(webhook, routes.conversion, T0));
    expect(error?.statusCode).toBe(429);
    expect(error?.details).toMatchObject({ limit: 'webhook' });
    // Request 1 writes (a minute not seen yet); 2–20 are held in memory; within 80 of the cap each request is
    // one conditional write (the 21st carries 2–20 with it). The 101st is refused from memory: 1 + 80 writes.
    expect(exactZone(100, DEFAULT_BATCHING)).toBe(80);
    expect(store.writes).toBe(81);
  });

  describe('per-container batching', () => {
    const roomy: Plan = { ...tiny, id: 'roomy', ratePerMinute: 1000, monthlyAllowance: 1_000_000 };
    const caller = { ...secret, planId: 'roomy' };
    const total = (store: MemoryMeterStore, attribute: string) =>
      [...store.items.values()].reduce((sum, item) => sum + (item[attribute] ?? 0), 0);

    it('writes once per N requests far from the caps, and every admitted request reaches the table', async () => {
      const store = new MemoryMeterStore();
      const meter = meterWith(store, roomy);
      const states = [];
      for (let i = 0; i < 201; i++) states.push(await meter.meter(caller, routes.decision, T0 + i * 10));
      // The first request of the minute writes; then one write per 20 requests.
      expect(store.writes).toBe(1 + 200 / DEFAULT_BATCHING.requests);
      expect(total(store, 't')).toBe(201);
      // The headers count what this container admitted, written or not.
      expect(states.at(-1)).toMatchObject({ limit: 1000, remaining: 1000 - 201 });
    });

    it('writes what it holds once the oldest is T old, at the next request', async () => {
      const store = new MemoryMeterStore();
      const meter = meterWith(store, roomy);
      for (let i = 0; i < 3; i++) await meter.meter(caller, routes.decision, T0 + i);
      expect(store.writes).toBe(1);
      await meter.meter(caller, routes.decision, T0 + 1 + DEFAULT_BATCHING.maxAgeMs);
      expect(store.writes).toBe(2);
      expect(total(store, 't')).toBe(4);
    });

    it("writes the previous hour's pending requests to that hour's item when the hour turns", async () => {
      const store = new MemoryMeterStore();
      const meter = meterWith(store, roomy);
      for (let i = 0; i < 5; i++) await meter.meter(caller, routes.decision, T0 + i);
      const nextHour = Date.UTC(2026, 5, 10, 13, 0, 1);
      await meter.meter(caller, routes.decision, nextHour);
      expect(store.items.get('METER#prop_a#0\u00002026-06-10T12')?.t).toBe(5);
      expect(store.items.get('METER#prop_a#0\u00002026-06-10T13')?.t).toBe(1);
    });

    it('keeps what it holds when its write fails (the request is still answered), and writes it with the next one', async () => {
      const store = new MemoryMeterStore();
      const meter = meterWith(store, roomy);
      for (let i = 0; i < 20; i++) await meter.meter(caller, routes.decision, T0 + i);
      const add = store.add.bind(store);
      store.add = async () => {
        throw new Error('throttled');
      };
      // The 21st fills the batch; its write fails, it is admitted all the same.
      expect(await meter.meter(caller, routes.decision, T0 + 20)).toMatchObject({ remaining: 1000 - 21 });
      store.add = add;
      expect(total(store, 't')).toBe(1);
      await meter.meter(caller, routes.decision, T0 + 21);
      expect(total(store, 't')).toBe(22);
    });

    it('stays within ~1 % of the cap at steady traffic spread over several containers, at ~0.1 write per request', async () => {
      const plan: Plan = { ...tiny, ratePerMinute: 1000, monthlyAllowance: 1_000_000_000 };
      for (const containers of [2, 5, 8]) {
        const store = new MemoryMeterStore();
        const fleet = Array.from({ length: containers }, () => meterWith(store, plan));
        // A minute at 90 % of the plan (each container learns how many share the item), then a minute at 150 %.
        const minute = async (start: number, requests: number) => {
          let admitted = 0;
          for (let i = 0; i < requests; i++) {
            const at = start + Math.floor((i * 50_000) / requests);
            if (!(await attempt(fleet[i % containers]!.meter(secret, routes.decision, at))).error) admitted++;
          }
          return admitted;
        };
        await minute(Date.UTC(2026, 5, 10, 12, 0, 0), 900);
        const writesBefore = store.writes;
        const admitted = await minute(Date.UTC(2026, 5, 10, 12, 1, 0), 1500);
        expect(admitted).toBeGreaterThanOrEqual(1000);
        expect(admitted).toBeLessThanOrEqual(1000 + 15);
        expect((store.writes - writesBefore) / 1500).toBeLessThan(0.1);
      }
    });

    it('overshoots a cap by at most containers × N, and one container alone is exact', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 50, max: 900 }),
          fc.array(fc.nat(), { minLength: 1200, maxLength: 1200 }),
          async (containers, rate, order) => {
            const plan: Plan = { ...tiny, ratePerMinute: rate, monthlyAllowance: 1_000_000 };
            const store = new MemoryMeterStore();
            const fleet = Array.from({ length: containers }, () => meterWith(store, plan));
            let admitted = 0;
            for (const [i, pick] of order.entries()) {
              const outcome = await attempt(fleet[pick % containers]!.meter(secret, routes.decision, T0 + i));
              if (!outcome.error) admitted++;
              else expect(outcome.error.statusCode).toBe(429);
            }
            if (containers === 1) expect(admitted).toBe(rate);
            expect(admitted).toBeGreaterThanOrEqual(rate);
            expect(admitted).toBeLessThanOrEqual(rate + containers * DEFAULT_BATCHING.requests);
            // Everything admitted is in the table once every container has written what it holds.
            for (const container of fleet) await attempt(container.meter(secret, routes.decision, T0 + 60_000));
            expect(total(store, `m${two(new Date(T0).getUTCMinutes())}`)).toBe(admitted);
          },
        ),
        { numRuns: 25 },
      );
    });
  });
});

const two = (n: number) => String(n).padStart(2, '0');
