import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../shared/config/env';
import { clickFacts, velocityCountersFor } from '../../shared/scoring';
import { DynamoVelocityStore, VELOCITY_SK } from '../../shared/scoring/dynamoVelocityStore';
import { documentClient } from '../../shared/storage/clients';

const tableName = process.env[ENV.tableName] as string;
const noIntel = { version: 'none', lookup: () => undefined };
const T0 = Date.UTC(2026, 4, 10, 12, 0, 0);

/** A fresh property per test keeps counters apart in the shared table. */
let seq = 0;
const property = (): string => `prop_vel${Date.now().toString(36)}${seq++}`;

describe('DynamoVelocityStore against DynamoDB Local', () => {
  it('increments every counter of a click in one round and returns the new values', async () => {
    let now = T0;
    const store = new DynamoVelocityStore({
      client: documentClient,
      tableName,
      now: () => now,
      returnConsumedCapacity: true,
    });
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
    expect(store.consumedCapacityUnits).toBeGreaterThan(0);
  });

  it('writes the TTL attribute and the VEL key family', async () => {
    const propertyId = property();
    const specs = velocityCountersFor(clickFacts({ propertyId, ip: '203.0.113.5' }, noIntel), T0);
    await new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 }).increment(specs);
    const spec = specs[0];
    if (spec === undefined) throw new Error('no specs');
    const item = await documentClient.send(
      new GetCommand({ TableName: tableName, Key: { pk: spec.key, sk: VELOCITY_SK } }),
    );
    expect(item.Item).toMatchObject({ v: 1, expiresAt: spec.expiresAt });
    expect(spec.key.startsWith(`VEL#${propertyId}#`)).toBe(true);
  });

  it('treats an expired item DynamoDB has not deleted yet as absent', async () => {
    const propertyId = property();
    const [gclidSpec] = velocityCountersFor(clickFacts({ propertyId, ip: 'x', gclid: 'old-gclid' }, noIntel), T0);
    if (gclidSpec === undefined) throw new Error('no gclid spec');
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: gclidSpec.key, sk: VELOCITY_SK, v: 5, expiresAt: Math.floor(T0 / 1000) - 10 },
      }),
    );
    const store = new DynamoVelocityStore({ client: documentClient, tableName, now: () => T0 });
    expect((await store.increment([gclidSpec])).gclid).toBe(1);
    expect((await store.increment([gclidSpec])).gclid).toBe(2);
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
