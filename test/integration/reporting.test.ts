import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { newId } from '../../shared/ids';
import { addDays, dayInZone } from '../../shared/reporting/calendar';
import { EXPORT_COLUMNS } from '../../shared/reporting/clickCsv';
import { SYNC_EXPORT_MAX_ROWS_ENV } from '../../shared/reporting/exports';
import { clickStores } from '../../shared/store';
import { s3 } from '../../shared/store/s3Sdk';
import { clickFixture, recordCounted } from '../unit/reporting/fixtures';
import { type Credentials, startTestStack, type TestStack } from './support';

const TIMEZONE = 'Asia/Ho_Chi_Minh';
const SYNC_LIMIT = 100;
let stack: TestStack;
let small: Credentials;
let large: Credentials;
const sent = new Map<string, string[]>();
const now = Date.now();
const today = dayInZone(now, TIMEZONE);
const from = addDays(today, -6);

/** Clicks spread over the last six days (crossing local and UTC midnights), scores over every band. */
async function seed(propertyId: string, count: number): Promise<void> {
  const stores = clickStores();
  const { ipReputation } = stores;
  const ids: string[] = [];
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const n = i + j;
        const record = clickFixture(
          propertyId,
          newId('clk_'),
          now - Math.floor((n / count) * 6 * 86_400_000),
          (n * 31) % 100,
          [n % 3 ? 'datacenter_ip' : 'headless_browser'],
        );
        ids.push(record.clickId);
        await recordCounted(stores, record, TIMEZONE);
        await ipReputation.recordIpOutcome({
          propertyId,
          ip: record.ip,
          at: record.at,
          score: record.current.score,
          reason: record.reasons[0]!.rule,
        });
      }),
    );
  }
  sent.set(propertyId, ids);
}

async function download(url: string): Promise<Record<string, string>[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text.split('\n')[0]).toBe(EXPORT_COLUMNS.join(','));
  // No field of this export holds a comma, quote or newline (ids, ISO times, addresses, numbers, enums).
  const [header, ...lines] = text.trimEnd().split('\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i]!, value])));
}

beforeAll(async () => {
  stack = await startTestStack({ env: { [SYNC_EXPORT_MAX_ROWS_ENV]: String(SYNC_LIMIT) } });
  [small, large] = await Promise.all([
    stack.createProperty({ timezone: TIMEZONE }),
    stack.createProperty({ timezone: TIMEZONE }),
  ]);
  await seed(small.id, 60);
  await seed(large.id, 150);
});

afterAll(async () => {
  await stack.stop();
});

describe('reporting routes on the local stack', () => {
  it('counts every click in property stats and bot stats, in every breakdown', async () => {
    const stats = await stack.fetchJson(`/v1/property/${small.id}/stats?range=7days`, { apiKey: small.secretKey });
    expect(stats.status).toBe(200);
    expect(stats.body.totalDecisions).toBe(60);
    expect(stats.body.totalEvents).toBe(60);
    expect(stats.body.cleanCount + stats.body.suspiciousCount + stats.body.fraudCount).toBe(60);
    expect(stats.body.fraudRate).toBe(`${((stats.body.fraudCount / 60) * 100).toFixed(1)}%`);
    expect(stats.body.topRules).toEqual([
      { rule: 'datacenter_ip', count: 40 },
      { rule: 'headless_browser', count: 20 },
    ]);

    const bot = await stack.fetchJson(`/v1/bot/stats?from=${from}&to=${today}`, { apiKey: small.secretKey });
    expect(bot.status).toBe(200);
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(bot.body.data.total).toBe(60);
    expect(sum(bot.body.data.by_level)).toBe(60);
    expect(sum(bot.body.data.by_action)).toBe(60);
    expect(bot.body.data.bots).toBe(60 - bot.body.data.by_level.low);
  });

  it("answers 403 for another property's stats and 400 for a reversed or too long range", async () => {
    const other = await stack.fetchJson(`/v1/property/${large.id}/stats`, { apiKey: small.secretKey });
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('FORBIDDEN');
    const reversed = await stack.fetchJson(`/v1/bot/stats?from=${today}&to=${from}`, { apiKey: small.secretKey });
    expect(reversed.status).toBe(400);
    const long = await stack.fetchJson('/v1/bot/stats?from=2024-01-01&to=2025-06-01', { apiKey: small.secretKey });
    expect(long.status).toBe(400);
  });

  it('lists IPs at or above the block threshold, highest first, as JSON and CSV', async () => {
    const json = await stack.fetchJson(`/v1/property/${small.id}/blocklist?days=30`, { apiKey: small.secretKey });
    expect(json.status).toBe(200);
    const scores = json.body.blocklist.map((e: { score: number }) => e.score);
    expect(scores.length).toBeGreaterThan(0);
    expect(scores.every((s: number) => s >= 70)).toBe(true);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(json.body.total).toBe(scores.length);
    const csv = await stack.fetch(`/v1/property/${small.id}/blocklist?format=csv`, {
      headers: { 'x-api-key': small.secretKey },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toBe('ip,score,lastSeen,reason');
    expect(lines).toHaveLength(scores.length + 1);
  });

  it('exports exactly the clicks sent through a presigned URL, and an expired URL is refused', async () => {
    const res = await stack.fetchJson(`/v1/bot/export?from=${from}&to=${today}&format=csv`, {
      apiKey: small.secretKey,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'ready', rows: 60 });
    const rows = await download(res.body.data.url);
    const ids = rows.map((r) => r.click_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...sent.get(small.id)!].sort());
    expect(rows.map((r) => r.timestamp)).toEqual(rows.map((r) => r.timestamp).sort());

    const key = decodeURIComponent(new URL(res.body.data.url).pathname.split('/').slice(2).join('/'));
    const shortLived = await getSignedUrl(s3, new GetObjectCommand({ Bucket: process.env.BUCKET_NAME, Key: key }), {
      expiresIn: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await fetch(shortLived)).status).toBe(403);
  });

  it('runs a large export as a job through the export writer, visible only to its property', async () => {
    const res = await stack.fetchJson(`/v1/bot/export?from=${from}&to=${today}`, { apiKey: large.secretKey });
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe('pending');
    const exportId: string = res.body.data.export_id;

    const foreign = await stack.fetchJson(`/v1/bot/export/${exportId}`, { apiKey: small.secretKey });
    expect(foreign.status).toBe(404);

    const ready = await stack.waitFor(async () => {
      const poll = await stack.fetchJson(`/v1/bot/export/${exportId}`, { apiKey: large.secretKey });
      return poll.body.data?.status === 'ready' ? poll.body.data : undefined;
    }, 30_000);
    expect(ready.rows).toBe(150);
    const ids = (await download(ready.url)).map((r) => r.click_id);
    expect(new Set(ids).size).toBe(150);
    expect([...ids].sort()).toEqual([...sent.get(large.id)!].sort());
  });
});
