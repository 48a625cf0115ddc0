import { randomBytes } from 'node:crypto';
import { ENV } from '../../shared/config/env';
import { createRateMeter } from '../../shared/http/rateLimit';
import type { Plan } from '../../shared/plans';
import { routes } from '../../shared/routes';
import { documentClient } from '../../shared/store/clients';
import { DynamoMeterStore, MemoryMeterStore, type MeterStore, type MeterWrite } from '../../shared/store/meter';

const tableName = process.env[ENV.tableName] as string;
const EXPIRES = Math.floor(Date.UTC(2026, 6, 1) / 1000);

/**
 * The meter's store in memory and on DynamoDB Local: the same writes give the same outcomes (applied or
 * refused, the counts after or as they stood) and the same month sums.
 */
describe('MeterStore: in-memory and DynamoDB Local agree', () => {
  it('applies, refuses at the caps and sums the month identically over a random write sequence', async () => {
    const pk = `METER#prop_parity${randomBytes(4).toString('hex')}#0`;
    const stores: MeterStore[] = [new MemoryMeterStore(), new DynamoMeterStore(documentClient, tableName)];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 60; i++) {
      const hour = `2026-06-10T1${rand(3)}`;
      const minute = `m0${rand(2)}`;
      const add = { t: 1 + rand(3), [minute]: 1 + rand(3), ...(rand(3) === 0 ? { webhook00: 1 } : {}) };
      // A third of the writes are batches of admitted requests (no caps); the rest are conditional.
      const caps =
        rand(3) === 0 ? undefined : { t: 40, [minute]: 6 + rand(4), ...('webhook00' in add ? { webhook00: 2 } : {}) };
      const write: MeterWrite = { pk, sk: hour, add, ...(caps ? { caps } : {}), expiresAt: EXPIRES };
      const [memory, dynamo] = await Promise.all(stores.map((store) => store.add(write)));
      expect(dynamo).toEqual(memory);
    }
    for (const before of ['2026-06-10T10', '2026-06-10T11', '2026-06-10T12', '2026-06-10T13']) {
      const [memory, dynamo] = await Promise.all(stores.map((store) => store.sumBefore(pk, '2026-06', before)));
      expect(dynamo).toBe(memory);
    }
    expect(await stores[1]!.sumBefore(pk, '2026-06', '2026-06-11')).toBeGreaterThan(0);
  });

  it('refuses an add larger than its cap on an item that does not exist yet', async () => {
    const pk = `METER#prop_parity${randomBytes(4).toString('hex')}#0`;
    const write: MeterWrite = { pk, sk: '2026-06-10T10', add: { m00: 3 }, caps: { m00: 2 }, expiresAt: EXPIRES };
    for (const store of [new MemoryMeterStore(), new DynamoMeterStore(documentClient, tableName)]) {
      expect(await store.add(write)).toEqual({ applied: false, counts: { m00: 0 } });
    }
  });

  it('three containers batching against DynamoDB Local admit at most the cap + containers × N in a minute', async () => {
    const plan: Plan = { id: 'small', name: 'Small', ratePerMinute: 300, burst: 300, monthlyAllowance: 1_000_000 };
    const store = new DynamoMeterStore(documentClient, tableName);
    const containers = Array.from({ length: 3 }, () =>
      createRateMeter({ store, plan: () => plan, batching: { requests: 10, maxAgeMs: 60_000 } }),
    );
    const caller = { kind: 'secret' as const, propertyId: `prop_m${randomBytes(4).toString('hex')}`, planId: 'small' };
    const at = Date.UTC(2026, 5, 10, 12, 30, 5);
    // Each container serves one request at a time (as a Lambda container does); the three run side by side.
    const outcomes: number[] = [];
    await Promise.all(
      containers.map(async (container) => {
        for (let i = 0; i < 150; i++) {
          outcomes.push(
            await container.meter(caller, routes.decision, at).then(
              () => 200,
              (error: { statusCode?: number }) => error.statusCode ?? 500,
            ),
          );
        }
      }),
    );
    const admitted = outcomes.filter((status) => status === 200).length;
    expect(outcomes.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(300);
    expect(admitted).toBeLessThanOrEqual(300 + 3 * 10);
    // Every admitted request reaches the table once each container writes what it holds (next minute's first request).
    for (const container of containers) await container.meter(caller, routes.decision, at + 60_000);
    expect(await store.sumBefore(`METER#${caller.propertyId}#0`, '2026-06', '2026-06-10T13')).toBe(admitted + 3);
  });
});
