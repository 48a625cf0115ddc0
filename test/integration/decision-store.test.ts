import { ENV, requireEnv } from '../../shared/config/env';
import { newId } from '../../shared/ids';
import { CLICK_DAY_SHARDS } from '../../shared/model';
import { CountConflictError, clickShard, clickStores, ROLLUP_SHARDS, sumCounts } from '../../shared/store';
import { PutCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import {
  DynamoIpReputationStore,
  type IpReputationStore,
  MemoryIpReputationStore,
} from '../../shared/store/ipReputation';
import { clickFixture, outcomeFor, recordCounted } from '../unit/reporting/fixtures';

const stores = clickStores();
const { clicks, rollups, ipReputation, ledger, counts } = stores;
const HOUR = 3_600_000;
// 2026-03-01T00:00Z; UTC is the property time zone here, so local days are UTC days.
const DAY0 = Date.UTC(2026, 2, 1);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('click store and rollups on DynamoDB Local', () => {
  const propertyId = newId('prop_');
  const other = newId('prop_');
  // 240 clicks over three UTC days, two at each shard's day boundary, scores spread over every band.
  const records = Array.from({ length: 240 }, (_, i) =>
    clickFixture(propertyId, newId('clk_'), DAY0 + Math.floor((i * 3 * 24 * HOUR) / 240) + (i % 7), (i * 37) % 100, [
      i % 2 ? 'datacenter_ip' : 'rapid_clicks',
    ]),
  );
  records.push(clickFixture(propertyId, newId('clk_'), DAY0 + 24 * HOUR - 1, 95, ['honeypot']));
  records.push(clickFixture(propertyId, newId('clk_'), DAY0 + 24 * HOUR, 5));

  beforeAll(async () => {
    for (let i = 0; i < records.length; i += 25) {
      await Promise.all(records.slice(i, i + 25).map((record) => recordCounted(stores, record, 'UTC')));
    }
    await recordCounted(stores, clickFixture(other, newId('clk_'), DAY0 + HOUR, 99), 'UTC');
  });

  it('returns every click of a range spanning days and all shards exactly once, in time order', async () => {
    expect(new Set(records.map((r) => clickShard(r.clickId))).size).toBe(CLICK_DAY_SHARDS);
    const found = await collect(clicks.clicksInRange(propertyId, DAY0 - HOUR, DAY0 + 4 * 24 * HOUR));
    const ids = found.map((c) => c.clickId);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(records.map((r) => r.clickId).sort());
    const times = found.map((c) => c.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('treats a range as half-open [from, to) at the exact millisecond', async () => {
    const boundary = DAY0 + 24 * HOUR;
    const before = await collect(clicks.clicksInRange(propertyId, DAY0, boundary));
    const after = await collect(clicks.clicksInRange(propertyId, boundary, DAY0 + 3 * 24 * HOUR));
    expect(before.every((c) => c.at < boundary)).toBe(true);
    expect(after.every((c) => c.at >= boundary)).toBe(true);
    expect(before.length + after.length).toBe(records.length);
  });

  it('stores a retried click once and counts it once', async () => {
    const first = records[0]!;
    await expect(recordCounted(stores, first, 'UTC')).resolves.toBe('duplicate');
    const day = await rollups.readDays(propertyId, ['2026-03-01']);
    const expected = records.filter((r) => r.at < DAY0 + 24 * HOUR).length;
    expect(day.get('2026-03-01')!.clicks).toBe(expected);
  });

  it('counts every click in every breakdown, shards added up', async () => {
    const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'];
    const total = sumCounts((await rollups.readDays(propertyId, days)).values());
    const n = records.length;
    const sum = (group: Record<string, number>) => Object.values(group).reduce((a, b) => a + b, 0);
    expect(total.clicks).toBe(n);
    expect(sum(total.labels)).toBe(n);
    expect(sum(total.actions)).toBe(n);
    expect(sum(total.levels)).toBe(n);
    expect(sum(total.botActions)).toBe(n);
    expect(total.labels.FRAUD).toBe(records.filter((r) => r.current.label === 'FRAUD').length);
    expect(total.rules.honeypot).toBe(1);
    expect(ROLLUP_SHARDS).toBeGreaterThan(1);
  });

  it('re-scores with one conditional write: concurrent re-scores both land; counting moves the bands once', async () => {
    const target = records.find((r) => r.current.label === 'CLEAN' && r.at >= DAY0 + 48 * HOUR)!;
    const day = ['2026-03-03'];
    const before = (await rollups.readDays(propertyId, day)).get('2026-03-03')!;
    const fraud = outcomeFor(88, ['honeypot']);
    const results = await Promise.all([
      ledger.rescoreClick(target.clickId, () => ({ next: fraud, reasons: [], patch: { beaconAt: DAY0 } })),
      ledger.rescoreClick(target.clickId, (click) => ({ next: click.current, reasons: click.reasons })),
    ]);
    expect(results.every((r) => r !== undefined)).toBe(true);
    const stored = await clicks.getClick(target.clickId);
    expect(stored?.version).toBe(3);
    expect(stored?.current).toEqual(fraud);
    const marker = (await counts.counted([target.clickId])).get(target.clickId)!;
    expect(marker).toEqual({ version: 1, outcome: target.current });
    const change = {
      clickId: target.clickId,
      propertyId,
      timezone: 'UTC',
      at: target.at,
      counted: marker,
      now: { version: 3, outcome: fraud },
    };
    await counts.count([change]);
    // The same change again (a redelivered batch) is refused: the marker moved.
    await expect(counts.count([change])).rejects.toThrow(CountConflictError);
    const after = (await rollups.readDays(propertyId, day)).get('2026-03-03')!;
    expect(after.clicks).toBe(before.clicks);
    expect(after.labels.CLEAN).toBe(before.labels.CLEAN - 1);
    expect(after.labels.FRAUD).toBe(before.labels.FRAUD + 1);
    expect(after.rules.honeypot ?? 0).toBe((before.rules.honeypot ?? 0) + 1);
  });

  it('reads a click past its retention TTL as absent before DynamoDB deletes it', async () => {
    const expired = clickFixture(propertyId, newId('clk_'), DAY0 + 2 * HOUR, 10);
    await ledger.recordClick(expired, Math.floor(Date.now() / 1000) - 1);
    expect(await clicks.getClick(expired.clickId)).toBeUndefined();
    expect((await clicks.getClicks([expired.clickId])).size).toBe(0);
    const found = await collect(clicks.clicksInRange(propertyId, DAY0, DAY0 + 3 * HOUR));
    expect(found.map((c) => c.clickId)).not.toContain(expired.clickId);
  });

  it("finds a gclid's first click named by a GCLID# item written before gclid slots existed", async () => {
    const table = requireEnv(ENV.tableName);
    const gclid = `legacy-${newId('clk_')}`;
    const nowSec = Math.floor(Date.now() / 1000);
    const legacy = (g: string, expiresAt: number) =>
      documentClient.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `GCLID#${propertyId}#${g}`, sk: 'GCLID', propertyId, clickId: 'clk_legacy', uses: 1, expiresAt },
        }),
      );
    await legacy(gclid, nowSec + 86_400);
    await legacy(`${gclid}-old`, nowSec - 60);
    expect(await clicks.findClickByGclid(propertyId, gclid, Date.now())).toBe('clk_legacy');
    expect(await clicks.findClickByGclid(propertyId, `${gclid}-old`, Date.now())).toBeUndefined();
    expect(await clicks.findClickByGclid(other, gclid, Date.now())).toBeUndefined();
  });

  it("never shows another property's clicks", async () => {
    const found = await collect(clicks.clicksInRange(other, DAY0 - HOUR, DAY0 + 4 * 24 * HOUR));
    expect(found.map((c) => c.propertyId)).toEqual([other]);
  });
});

describe('IP reputation on DynamoDB Local', () => {
  const propertyId = newId('prop_');
  const now = Date.UTC(2026, 4, 10);

  it('keeps the highest recent score, moves lastSeen, and lets the click holding the maximum lower it', async () => {
    const ip = '198.51.100.7';
    await ipReputation.recordIpOutcome({ propertyId, ip, at: now - 5000, score: 85, reason: 'datacenter_ip' });
    await ipReputation.recordIpOutcome({ propertyId, ip, at: now, score: 20, reason: 'none' });
    let [record] = await ipReputation.riskyIps(propertyId, now - HOUR, 70);
    expect(record).toEqual({ ip, score: 85, reason: 'datacenter_ip', lastSeen: now, clicks: 0 });

    await ipReputation.recordIpOutcome({
      propertyId,
      ip,
      at: now - 5000,
      score: 30,
      reason: 'none',
      previousScore: 85,
    });
    expect(await ipReputation.riskyIps(propertyId, now - HOUR, 40)).toEqual([]);

    await ipReputation.recordIpOutcome({ propertyId, ip, at: now + 1000, score: 72, reason: 'rapid_clicks' });
    [record] = await ipReputation.riskyIps(propertyId, now - HOUR, 70);
    expect(record).toEqual({ ip, score: 72, reason: 'rapid_clicks', lastSeen: now + 1000, clicks: 0 });
  });

  it('counts each click of an address once, redelivered or late, in the update it already made (DynamoDB and memory alike)', async () => {
    let calls = 0;
    const counting = new Proxy(documentClient, {
      get: (target, name, receiver) =>
        name === 'send'
          ? (...args: Parameters<typeof documentClient.send>) => {
              calls++;
              return target.send(...args);
            }
          : Reflect.get(target, name, receiver),
    });
    const stores: [string, IpReputationStore][] = [
      ['dynamo', new DynamoIpReputationStore(counting, requireEnv(ENV.tableName))],
      ['memory', new MemoryIpReputationStore()],
    ];
    for (const [name, store] of stores) {
      const ip = name === 'dynamo' ? '203.0.113.50' : '203.0.113.51';
      const writes: number[] = [];
      const click = async (clickId: string | undefined, at: number, score: number) => {
        const before = calls;
        await store.recordIpOutcome({ propertyId, ip, at, score, reason: 'velocity', ...(clickId ? { clickId } : {}) });
        writes.push(calls - before);
      };
      await click('clk_a', now, 85); // the first risky click starts the record
      await click('clk_a', now, 85); // redelivered
      await click('clk_b', now + 1000, 20); // lower score, later: lastSeen moves
      await click('clk_c', now - 10_000, 30); // lower score, earlier: lastSeen stays
      await click('clk_b', now + 1000, 20); // redelivered
      await click(undefined, now + 2000, 90); // evidence that is no click (the honeypot): no count
      const [record] = (await store.riskyIps(propertyId, now - HOUR, 70)).filter((r) => r.ip === ip);
      expect({ name, ...record }).toEqual({ name, ip, score: 90, reason: 'velocity', lastSeen: now + 2000, clicks: 3 });
      // Never more calls than before counting: one update, a second only when the first was refused.
      if (name === 'dynamo') expect(writes).toEqual([1, 1, 2, 2, 1, 1]);
    }
  });

  it('leaves clean addresses out of the index and old ones out of the window', async () => {
    await ipReputation.recordIpOutcome({ propertyId, ip: '192.0.2.1', at: now, score: 10, reason: 'none' });
    await ipReputation.recordIpOutcome({
      propertyId,
      ip: '192.0.2.2',
      at: now - 40 * 24 * HOUR,
      score: 95,
      reason: 'tor',
    });
    const ips = (await ipReputation.riskyIps(propertyId, now - 30 * 24 * HOUR, 40)).map((r) => r.ip);
    expect(ips).not.toContain('192.0.2.1');
    expect(ips).not.toContain('192.0.2.2');
  });
});
