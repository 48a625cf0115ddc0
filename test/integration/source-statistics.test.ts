import { ENV } from '../../shared/config/env';
import { DIMENSIONS, SLOTS_PER_DIMENSION, statsKey } from '../../shared/scoring';
import { QueryCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { DynamoSourceStatsStore, SOURCE_SHARDS } from '../../shared/store/sourceStats';
import { type Credentials, startTestStack, type TestStack } from './support';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
/** Each click carries six distinct 200-character values (seven statistics keys): 6,000 attacker sources. */
const ATTACK_CLICKS = 1_000;

let stack: TestStack;
let property: Credentials;

beforeAll(async () => {
  // With the queue pollers: the statistics are counted off the request path, by the click counter.
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  property = await stack.createProperty({ plan: 'network' });
});

afterAll(async () => {
  await stack.stop();
});

/** A 200-character value unique to click i. */
const junk = (i: number, dimension: string) => `${dimension}${i}-`.padEnd(200, 'x');

const click = (pageUrl: string, ip: string) =>
  stack.fetchJson('/v1/click', {
    body: { tracking_key: property.publicKey, user_agent: CHROME, page_url: pageUrl },
    headers: { 'x-forwarded-for': ip },
  });

describe('bounded per-property state (only the public key in hand)', () => {
  it('thousands of distinct 200-character sources grow no item, answer no 5xx, and a normal click still answers 200', async () => {
    const statuses = new Map<number, number>();
    // Ten at a time: the emulators on a shared test machine, not the service, are the bottleneck.
    for (let start = 0; start < ATTACK_CLICKS; start += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => start + j);
      const answers = await Promise.all(
        batch.map((i) => {
          const q = ['campaignid', 'adgroupid', 'keyword', 'placement', 'network', 'device']
            .map((d) => `${d}=${encodeURIComponent(junk(i, d))}`)
            .join('&');
          return click(`https://shop.example/landing?${q}`, `81.2.${70 + (i >> 8)}.${i & 255}`);
        }),
      );
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(ATTACK_CLICKS * 0.9);

    const normal = await click('https://shop.example/landing?campaignid=1&placement=news.example', '81.2.69.200');
    expect(normal.status).toBe(200);
    expect(normal.body.status).toBe('clean');

    // The statistics (counted off the request path by the click counter): at most SOURCE_SHARDS items, each
    // far below DynamoDB's 400 KB, short attribute names only.
    const statisticsItems = async () => {
      const found: Record<string, unknown>[] = [];
      for (let shard = 0; shard < SOURCE_SHARDS; shard++) {
        const out = await documentClient.send(
          new QueryCommand({
            TableName: process.env[ENV.tableName],
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `SRCS#${property.id}#${shard}` },
          }),
        );
        found.push(...(out.Items ?? []));
      }
      return found;
    };
    const items = await stack.waitFor(async () => {
      const found = await statisticsItems();
      return found.length > 0 ? found : undefined;
    }, 120_000);
    for (const item of items) {
      const names = Object.keys(item).filter((n) => !['pk', 'sk', 'expiresAt'].includes(n));
      expect(names.every((n) => n.length <= 6)).toBe(true);
      expect(names.length).toBeLessThanOrEqual(2 * Object.keys(DIMENSIONS).length * SLOTS_PER_DIMENSION + 4);
      expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(300_000);
    }
    expect(items.length).toBeLessThanOrEqual(SOURCE_SHARDS);
  }, 600_000);
});

describe('a real source cannot be dragged down with the public key', () => {
  it('one address teaches a placement at most three clicks a day; every click still counts (learned or invalid)', async () => {
    const victim = await stack.createProperty({ plan: 'network' });
    const page = 'https://shop.example/landing?campaignid=5&placement=real-news.example';
    const send = (ip: string) =>
      stack.fetchJson('/v1/click', {
        body: { tracking_key: victim.publicKey, user_agent: CHROME, page_url: page },
        headers: { 'x-forwarded-for': ip },
      });
    // The fraudster: 40 fake clicks tagged with the real placement from one address, none converting.
    for (let i = 0; i < 40; i++) expect((await send('81.2.80.7')).status).toBe(200);
    // Five real visitors from their own addresses.
    for (let i = 0; i < 5; i++) expect((await send(`81.2.${90 + i}.20`)).status).toBe(200);

    const slot = statsKey('placement:real-news.example') as string;
    // Counted off the request path by the click counter; a fresh store each time (no cache).
    const placement = await stack.waitFor(async () => {
      const stats = (
        await new DynamoSourceStatsStore(documentClient, process.env[ENV.tableName] as string).quality(
          victim.id,
          Date.now(),
        )
      ).bySlot.get(slot);
      return stats !== undefined && stats.clicks + (stats.fraud ?? 0) >= 45 ? stats : undefined;
    }, 120_000);
    // Three of the fraudster's clicks and the five visitors' teach the placement; the rest count only as
    // invalid (FRAUD at click time) or at their repeat level.
    expect(placement.clicks).toBe(3 + 5);
    expect(placement.clicks + (placement.fraud ?? 0)).toBe(45);
  }, 300_000);
});
