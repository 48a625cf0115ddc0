import { ENV } from '../../shared/config/env';
import { clickFacts, velocityCountersFor } from '../../shared/scoring';
import { CAMPAIGN_SLOTS, type CounterValues, VISITOR_BUCKETS } from '../../shared/scoring/velocity';
import { GetCommand, PutCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { DynamoVelocityStore, VELOCITY_SK } from '../../shared/store/velocity/dynamo';
import { InMemoryVelocityStore } from '../../shared/store/velocity/memory';

const tableName = process.env[ENV.tableName] as string;
const noIntel = { version: 'none', lookup: () => undefined };
const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);

/** An item's size as DynamoDB bills it (attribute names + values; numbers and set members approximated). */
function itemBytes(item: Record<string, unknown>): number {
  const valueBytes = (value: unknown): number => {
    if (typeof value === 'string') return Buffer.byteLength(value);
    if (typeof value === 'number') return 21;
    if (value instanceof Set) return [...value].reduce((sum: number, member) => sum + valueBytes(member), 0);
    return 1;
  };
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

/** A fresh property per test keeps counters apart in the shared table. */
let seq = 0;
const property = (): string => `prop_vel${Date.now().toString(36)}${seq++}`;

describe('DynamoVelocityStore against DynamoDB Local', () => {
  it('increments every counter of a click in one round and returns the new values', async () => {
    let now = T0;
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => now });
    const propertyId = property();
    const facts = (ip: string) =>
      clickFacts({ propertyId, ip, visitorId: 'vis_a', gclid: 'gclid-1', pageUrl: '/?campaignid=42' }, noIntel);
    const first = await store.increment(velocityCountersFor(facts('198.51.100.1'), now));
    expect(first).toMatchObject({
      ip_1m: 1,
      ip_1h: 1,
      visitor_ips_1d: 1,
      ip_visitors_1h: 1,
      gclid: 1,
      ip_campaign_1d: 1,
    });
    now += 20_000;
    const second = await store.increment(velocityCountersFor(facts('198.51.100.2'), now));
    expect(second).toMatchObject({ ip_1m: 1, subnet_1h: 2, visitor_1h: 2, visitor_ips_1d: 2, gclid: 2 });
  });

  it('keeps every window of a counted key in one item with the TTL of its longest window', async () => {
    const propertyId = property();
    const specs = velocityCountersFor(
      clickFacts(
        { propertyId, ip: '203.0.113.5', visitorId: 'vis_b', gclid: 'g-5', pageUrl: '/?campaignid=7' },
        noIntel,
      ),
      T0,
    );
    const items = [...new Set(specs.map((s) => s.item))];
    // address (with its campaign slots), its /24, visitor, gclid: four UpdateItems for ten windows.
    expect(items).toHaveLength(4);
    expect(specs.length).toBeGreaterThan(items.length);
    await new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 }).increment(specs);
    const ipSpecs = specs.filter((s) => s.item === `VEL#${propertyId}#ip#203.0.113.5`);
    const { Item } = await documentClient.send(
      new GetCommand({ TableName: tableName, Key: { pk: ipSpecs[0]!.item, sk: VELOCITY_SK } }),
    );
    expect(Item?.expiresAt).toBe(Math.max(...ipSpecs.map((s) => s.expiresAt)));
    for (const spec of ipSpecs) expect(Item?.[spec.attr]).toBeDefined();
  });

  it('drops the previous bucket of each window and never reads an ended one', async () => {
    const propertyId = property();
    let now = T0;
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => now });
    const specsAt = (t: number) => velocityCountersFor(clickFacts({ propertyId, ip: '203.0.113.9' }, noIntel), t);
    for (let i = 0; i < 3; i++) await store.increment(specsAt(now));
    now += 5 * 60_000; // both 2-minute windows of ip_1m ended; the hour and day windows did not
    const later = await store.increment(specsAt(now));
    expect(later).toMatchObject({ ip_1m: 1, ip_1h: 4, ip_1d: 4 });
    const item = specsAt(now)[0]!.item;
    const { Item } = await documentClient.send(
      new GetCommand({ TableName: tableName, Key: { pk: item, sk: VELOCITY_SK } }),
    );
    const ip1m = Object.keys(Item ?? {}).filter((name) => name.startsWith('ip_1m_'));
    expect(ip1m.length).toBeLessThanOrEqual(4);
  });

  it('counts exactly like the in-memory twin the backtest uses (parity)', async () => {
    const propertyId = property();
    let now = T0;
    const dynamo = new DynamoVelocityStore({ client: documentClient, tableName, now: () => now });
    const memory = new InMemoryVelocityStore(() => now);
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 60; i++) {
      now += rand(4) * 45_000 + rand(2) * 3_600_000;
      const specs = velocityCountersFor(
        clickFacts(
          {
            propertyId,
            ip: `198.51.100.${rand(3)}`,
            visitorId: `vis_${rand(4)}`,
            gclid: `g-${rand(5)}`,
            // More campaigns than an address has slots: the overflow counts identically too.
            pageUrl: `/?campaignid=${rand(CAMPAIGN_SLOTS + 4)}`,
          },
          noIntel,
        ),
        now,
      );
      expect(await dynamo.increment(specs)).toEqual(await memory.increment(specs));
    }
  });

  it("bounds an address's campaigns and visitors: 1,000 new values of each from one address leave a small item", async () => {
    const propertyId = property();
    let now = T0;
    const dynamo = new DynamoVelocityStore({ client: documentClient, tableName, now: () => now });
    const memory = new InMemoryVelocityStore(() => now);
    const specsFor = (campaign: string, visitorId = 'vis_c') =>
      velocityCountersFor(
        clickFacts({ propertyId, ip: '203.0.113.66', visitorId, pageUrl: `/?campaignid=${campaign}` }, noIntel),
        now,
      );
    const sizeOf = async () => {
      const { Item } = await documentClient.send(
        new GetCommand({ TableName: tableName, Key: { pk: `VEL#${propertyId}#ip#203.0.113.66`, sk: VELOCITY_SK } }),
      );
      const names = Object.keys(Item ?? {});
      return { attributes: names.length, bytes: itemBytes(Item ?? {}), names };
    };
    // Two campaigns clicked again and again: exact counts, as when each had its own item.
    for (let i = 1; i <= 3; i++) {
      expect((await dynamo.increment(specsFor('summer'))).ip_campaign_1d).toBe(2 * i - 1);
      expect((await dynamo.increment(specsFor('summer'))).ip_campaign_1d).toBe(2 * i);
      expect((await dynamo.increment(specsFor('winter'))).ip_campaign_1d).toBe(i);
    }
    for (let i = 0; i < 3; i++)
      await memory.increment(specsFor('summer')).then(() => memory.increment(specsFor('summer')));
    for (let i = 0; i < 3; i++) await memory.increment(specsFor('winter'));
    const small = await sizeOf();

    // The attack: a new campaign value and a new visitor id on every click, 1,000 of them within the day.
    let last: CounterValues = {};
    for (let i = 0; i < 1000; i++) {
      now += 1_000;
      const specs = specsFor(`spray-${i}`, `vis_spray${i}`);
      const [d, m] = [await dynamo.increment(specs), await memory.increment(specs)];
      expect(d).toEqual(m);
      last = d;
    }
    const big = await sizeOf();
    // Slots: the set of at most 8 campaigns, their windows and one overflow window.
    expect(big.attributes - small.attributes).toBeLessThanOrEqual(CAMPAIGN_SLOTS - 2 + 1);
    expect(big.bytes).toBeLessThan(1500);
    // 1,000 visitor ids in 256 buckets: nearly all buckets taken, never more.
    expect(last.ip_visitors_1h).toBeGreaterThan(200);
    expect(last.ip_visitors_1h).toBeLessThanOrEqual(VISITOR_BUCKETS);
    // The sprayed campaigns past the slots share the overflow: at least as many as any one of them alone.
    expect(last).toMatchObject({ ip_campaign_1d: 1000 - (CAMPAIGN_SLOTS - 2), ip_1d: 1009 });
    // The slotted campaigns keep their exact counts.
    expect((await dynamo.increment(specsFor('summer'))).ip_campaign_1d).toBe(7);
    expect((await memory.increment(specsFor('summer'))).ip_campaign_1d).toBe(7);

    // Next day the slots are free again: a new campaign counts on its own, and the item stays as small.
    now += 86_400_000;
    expect((await dynamo.increment(specsFor('autumn'))).ip_campaign_1d).toBe(1);
    expect((await memory.increment(specsFor('autumn'))).ip_campaign_1d).toBe(1);
    const nextDay = await sizeOf();
    expect(nextDay.bytes).toBeLessThan(1500);
    // Yesterday's slots are gone (the set by the click's own write, the windows as leftovers): today's set and count.
    const autumn = specsFor('autumn').find((spec) => spec.slot !== undefined);
    expect(nextDay.names.filter((name) => name.startsWith('ip_campaign_1d_')).sort()).toEqual(
      [autumn?.slot?.slotsAttr, autumn?.attr].sort(),
    );
  });

  it('treats an expired item DynamoDB has not deleted yet as absent', async () => {
    const propertyId = property();
    const [gclidSpec] = velocityCountersFor(clickFacts({ propertyId, ip: 'x', gclid: 'old-gclid' }, noIntel), T0);
    if (gclidSpec === undefined) throw new Error('no gclid spec');
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: gclidSpec.item, sk: VELOCITY_SK, [gclidSpec.attr]: 5, expiresAt: Math.floor(T0 / 1000) - 10 },
      }),
    );
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 });
    expect((await store.increment([gclidSpec])).gclid).toBe(1);
    expect((await store.increment([gclidSpec])).gclid).toBe(2);
  });

  it('keeps a gclid from its first use, as the in-memory store does: later uses do not extend it', async () => {
    const propertyId = property();
    const gclidAt = (ms: number) =>
      velocityCountersFor(clickFacts({ propertyId, ip: 'x', gclid: 'kept-gclid' }, noIntel), ms, 30).filter(
        (spec) => spec.counter === 'gclid',
      );
    let now = T0;
    const dynamo = new DynamoVelocityStore({ client: documentClient, tableName, now: () => now });
    const memory = new InMemoryVelocityStore(() => now);
    const uses = async () => [
      (await dynamo.increment(gclidAt(now))).gclid,
      (await memory.increment(gclidAt(now))).gclid,
    ];
    expect(await uses()).toEqual([1, 1]);
    now += 20 * 86_400_000;
    expect(await uses()).toEqual([2, 2]);
    const [spec] = gclidAt(T0);
    const { Item } = await documentClient.send(
      new GetCommand({ TableName: tableName, Key: { pk: spec?.item, sk: VELOCITY_SK } }),
    );
    expect(Item?.expiresAt).toBe(spec?.expiresAt);
    // 31 days after the first use, 11 after the last: a first use again.
    now += 11 * 86_400_000;
    expect(await uses()).toEqual([1, 1]);
  });

  it('restarts an expired address item whose campaign slots were all taken: the campaign gets its own slot', async () => {
    const propertyId = property();
    const specs = velocityCountersFor(
      clickFacts({ propertyId, ip: '203.0.113.88', pageUrl: '/?campaignid=fresh' }, noIntel),
      T0,
    );
    const campaign = specs.find((s) => s.slot !== undefined);
    if (campaign?.slot === undefined) throw new Error('no campaign spec');
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: campaign.item,
          sk: VELOCITY_SK,
          [campaign.slot.slotsAttr]: new Set(Array.from({ length: CAMPAIGN_SLOTS }, (_, i) => `cold${i}`)),
          [campaign.slot.overflowAttr]: 40,
          expiresAt: Math.floor(T0 / 1000) - 10,
        },
      }),
    );
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 });
    expect(await store.increment(specs)).toMatchObject({ ip_campaign_1d: 1, ip_1m: 1 });
    expect(await store.increment(specs)).toMatchObject({ ip_campaign_1d: 2, ip_1m: 2 });
  });

  it('gives out exactly 8 slots to 20 concurrent clicks on 20 campaigns; the rest count in the overflow', async () => {
    const propertyId = property();
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.increment(
          velocityCountersFor(
            clickFacts({ propertyId, ip: '203.0.113.99', pageUrl: `/?campaignid=burst${i}` }, noIntel),
            T0,
          ),
        ),
      ),
    );
    const values = results.map((r) => r.ip_campaign_1d ?? 0).sort((a, b) => a - b);
    // Eight campaigns hold a slot (one click each); the twelve others share the overflow, counted exactly.
    expect(values).toEqual(
      [...Array(CAMPAIGN_SLOTS).fill(1), ...Array.from({ length: 12 }, (_, i) => i + 1)].sort((a, b) => a - b),
    );
    expect(results.map((r) => r.ip_1m ?? 0).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('stays exact under concurrent clicks on one counter', async () => {
    const propertyId = property();
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 });
    const specs = velocityCountersFor(clickFacts({ propertyId, ip: '203.0.113.77' }, noIntel), T0);
    const oneWindow = specs.filter((s) => s.counter === 'ip_1h').slice(0, 1);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.increment(oneWindow)));
    const values = results.map((r) => r.ip_1h ?? 0).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
