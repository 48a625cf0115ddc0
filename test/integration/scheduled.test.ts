import { randomInt } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { handler as blocklistPush, blocklistPushHandler } from '../../functions/scheduled/blocklist-push';
import { ENV, requireEnv } from '../../shared/config/env';
import { customerFor, GoogleAdsAccount } from '../../shared/googleAds/adsAccount';
import { RecordedGoogleAds } from '../../shared/googleAds/recordedGoogleAds';
import { newId } from '../../shared/ids';
import { addDays, dayInZone, dayRangeBounds } from '../../shared/reporting/calendar';
import { EXPORT_COLUMNS } from '../../shared/reporting/clickCsv';
import { dailyExportKey } from '../../shared/reporting/exports';
import { type DayCheck, rollupSummaryKey } from '../../shared/reporting/rollupCheck';
import { clickStores, exclusionLedger } from '../../shared/store';
import { s3 } from '../../shared/store/s3Sdk';
import { clickFixture, recordCounted } from '../unit/reporting/fixtures';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * The three scheduled jobs against the emulators. Each job walks every property of the shared table
 * (other test files' too), so the assertions look at this file's properties only.
 */
let stack: TestStack;
const bucket = requireEnv(ENV.bucketName);

beforeAll(async () => {
  stack = await startTestStack({ pollers: false });
});
afterAll(async () => {
  await stack?.stop();
});

async function objectText(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

/** Settlement CSV rows by column (no field of it holds a comma, quote or newline). */
function csvRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  expect(header).toBe(EXPORT_COLUMNS.join(','));
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [EXPORT_COLUMNS[i]!, value])));
}

async function recordClick(propertyId: string, timezone: string, at: number, score: number): Promise<string> {
  const record = clickFixture(propertyId, newId('clk_'), at, score, ['datacenter_ip']);
  expect(await recordCounted(clickStores(), record, timezone)).toBe('stored');
  return record.clickId;
}

describe('daily export', () => {
  // UTC+14: its yesterday is rarely the UTC yesterday, so a job using UTC days would pick the wrong clicks.
  const TIMEZONE = 'Pacific/Kiritimati';

  it("writes yesterday's clicks of the property's own day, once", async () => {
    const property = await stack.createProperty({ timezone: TIMEZONE });
    const now = Date.now();
    const today = dayInZone(now, TIMEZONE);
    const yesterday = addDays(today, -1);
    const { fromMs, toMs } = dayRangeBounds(yesterday, yesterday, TIMEZONE);
    const expected = [
      await recordClick(property.id, TIMEZONE, fromMs, 12),
      await recordClick(property.id, TIMEZONE, fromMs + 6 * 3_600_000, 55),
      await recordClick(property.id, TIMEZONE, toMs - 1, 91),
    ];
    await recordClick(property.id, TIMEZONE, fromMs - 1, 80);
    await recordClick(property.id, TIMEZONE, toMs, 30);
    await recordClick(property.id, TIMEZONE, Math.min(now, toMs + 3_600_000), 75);

    await stack.runSchedule('dailyExport');
    const key = dailyExportKey(property.id, yesterday);
    expect(key).toBe(`exports/daily/${property.id}/${yesterday}.csv`);
    const rows = csvRows(await objectText(key));
    expect(rows.map((r) => r.click_id).sort()).toEqual([...expected].sort());
    for (const row of rows) {
      const at = Date.parse(row.timestamp!);
      expect(at >= fromMs && at < toMs).toBe(true);
    }
    const first = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));

    await stack.runSchedule('dailyExport');
    const again = csvRows(await objectText(key));
    expect(again.map((r) => r.click_id).sort()).toEqual([...expected].sort());
    const second = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(second.ETag).toBe(first.ETag);
  });
});

describe('stats rollup', () => {
  const TIMEZONE = 'America/Los_Angeles';

  async function summary(propertyId: string, day: string): Promise<DayCheck & { propertyId: string }> {
    const key = rollupSummaryKey(propertyId, day);
    expect(key).toBe(`rollups/${propertyId}/${day}.json`);
    return JSON.parse(await objectText(key));
  }

  it('summarises yesterday and today as recorded, and reports a click missing from the rollup', async () => {
    const [counted, drifted] = await Promise.all([
      stack.createProperty({ timezone: TIMEZONE }),
      stack.createProperty({ timezone: TIMEZONE }),
    ]);
    const now = Date.now();
    const today = dayInZone(now, TIMEZONE);
    const yesterday = addDays(today, -1);
    const todayStart = dayRangeBounds(today, today, TIMEZONE).fromMs;
    const yesterdayStart = dayRangeBounds(yesterday, yesterday, TIMEZONE).fromMs;
    for (const score of [10, 35, 50, 80])
      await recordClick(counted.id, TIMEZONE, yesterdayStart + score * 60_000, score);
    for (const score of [20, 95]) await recordClick(counted.id, TIMEZONE, todayStart + score * 1000, score);
    await clickStores().rollups.recordEvent(counted.id, TIMEZONE, todayStart);
    await recordClick(drifted.id, TIMEZONE, todayStart, 45);
    const unrolled = clickFixture(drifted.id, newId('clk_'), todayStart + 1000, 85);
    expect(await clickStores().clicks.putClick(unrolled)).toBe('stored');

    await stack.runSchedule('statsRollup');

    expect(await summary(counted.id, yesterday)).toMatchObject({
      propertyId: counted.id,
      day: yesterday,
      rollup: { clicks: 4, events: 0, labels: { CLEAN: 2, SUSPICIOUS: 1, FRAUD: 1 } },
      recount: { clicks: 4, labels: { CLEAN: 2, SUSPICIOUS: 1, FRAUD: 1 } },
      consistent: true,
    });
    expect(await summary(counted.id, today)).toMatchObject({
      rollup: { clicks: 2, events: 1, labels: { CLEAN: 1, SUSPICIOUS: 0, FRAUD: 1 } },
      recount: { clicks: 2, labels: { CLEAN: 1, SUSPICIOUS: 0, FRAUD: 1 } },
      consistent: true,
    });
    expect(await summary(drifted.id, today)).toMatchObject({
      rollup: { clicks: 1, labels: { CLEAN: 0, SUSPICIOUS: 1, FRAUD: 0 } },
      recount: { clicks: 2, labels: { CLEAN: 0, SUSPICIOUS: 1, FRAUD: 1 } },
      consistent: false,
    });
  });
});

describe('blocklist push', () => {
  const CREDENTIALS = { developer_token: 'd', client_id: 'c', client_secret: 's', refresh_token: 'r' };
  const customerId = () => String(randomInt(1_000_000_000, 9_999_999_999));

  async function linkProperty(property: Credentials, config: Record<string, unknown>): Promise<void> {
    // The ad-account link is the operator's setting: the admin key sets it.
    const response = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      admin: true,
      body: config,
    });
    expect(response.status).toBe(200);
  }

  it("pushes each linked property's exclusions through google-ads-api into the recorded account, owned and logged", async () => {
    const [linked, disabled, unlinked] = await Promise.all(Array.from({ length: 3 }, () => stack.createProperty()));
    const [linkedCustomer, disabledCustomer] = [customerId(), customerId()];
    await linkProperty(linked!, {
      allowlist: ['198.51.100.0/28'],
      adAccount: { provider: 'google_ads', customerId: linkedCustomer },
    });
    await linkProperty(disabled!, {
      adAccount: { provider: 'google_ads', customerId: disabledCustomer, enabled: false },
    });
    const { ipReputation } = clickStores();
    const at = Date.now() - 3_600_000;
    const seen = (propertyId: string, ip: string, score: number) =>
      ipReputation.recordIpOutcome({ propertyId, ip, at, score, reason: 'datacenter_ip' });
    await seen(linked!.id, '10.1.0.1', 95);
    await seen(linked!.id, '198.51.100.5', 100);
    await seen(linked!.id, '10.2.0.1', 40);
    await seen(disabled!.id, '10.3.0.1', 95);
    await seen(unlinked!.id, '10.4.0.1', 95);

    const accounts = new Map<string, RecordedGoogleAds>();
    const accountOf = (id: string) => {
      const account = accounts.get(id) ?? new RecordedGoogleAds(id).addCampaign('1', 'SEARCH');
      accounts.set(id, account);
      return account;
    };
    const manual = accountOf(linkedCustomer).addManualExclusion('203.0.113.1');
    const push = blocklistPushHandler({
      accountFor: async (_id, link) =>
        new GoogleAdsAccount(
          customerFor(CREDENTIALS, link, undefined, accountOf(link.customerId.replace(/-/g, '')).hooks()),
          link.customerId,
        ),
    });
    expect((await push()).failed).toBe(0);
    expect(accountOf(linkedCustomer).snapshot()).toEqual({ account: ['10.1.0.1', '203.0.113.1'] });
    expect(accounts.has(disabledCustomer)).toBe(false);
    const ledger = exclusionLedger();
    const owned = await ledger.owned(linked!.id);
    expect(owned.map((o) => [o.value, o.level])).toEqual([['10.1.0.1', 'account']]);
    expect(owned[0]!.resourceName).not.toBe(manual);
    expect((await ledger.changeLog(linked!.id, 5)).map((e) => [e.action, e.value])).toEqual([['added', '10.1.0.1']]);

    const before = accountOf(linkedCustomer).mutateCalls().length;
    expect((await push()).failed).toBe(0);
    expect(accountOf(linkedCustomer).mutateCalls()).toHaveLength(before);

    // An account that refuses the credentials fails that property (logged with the reason), not the run.
    await seen(linked!.id, '10.5.0.1', 96);
    accountOf(linkedCustomer).refuse('authentication');
    expect(await push()).toMatchObject({ failed: 1 });
    expect(accountOf(linkedCustomer).mutateCalls()).toHaveLength(before);
    accountOf(linkedCustomer).refuse(undefined);
  });

  it('changes nothing while the Google Ads secret is not set', async () => {
    expect(process.env[ENV.googleAdsSecretArn]).toBeUndefined();
    expect((await blocklistPush()).failed).toBe(0);
    await expect(stack.runSchedule('blocklistPush')).resolves.toBeUndefined();
  });
});
