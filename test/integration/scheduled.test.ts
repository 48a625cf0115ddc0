import { randomInt } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { handler as blocklistPush, blocklistPushHandler } from '../../functions/scheduled/blocklist-push';
import { ENV, requireEnv } from '../../shared/config/env';
import { decisionStores } from '../../shared/decisions';
import { parseGoogleAdsSecret } from '../../shared/googleAds/credentials';
import type { AdsExclusionTarget, CurrentExclusion } from '../../shared/googleAds/exclusions';
import { newId } from '../../shared/ids';
import { addDays, dayInZone, dayRangeBounds } from '../../shared/reporting/calendar';
import { EXPORT_COLUMNS } from '../../shared/reporting/clickCsv';
import { dailyExportKey } from '../../shared/reporting/exports';
import { type DayCheck, rollupSummaryKey } from '../../shared/reporting/rollupCheck';
import { s3 } from '../../shared/storage/clients';
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
  expect(await recordCounted(decisionStores(), record, timezone)).toBe('stored');
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
    await decisionStores().rollups.recordEvent(counted.id, TIMEZONE, todayStart);
    await recordClick(drifted.id, TIMEZONE, todayStart, 45);
    const unrolled = clickFixture(drifted.id, newId('clk_'), todayStart + 1000, 85);
    expect(await decisionStores().clicks.putClick(unrolled)).toBe('stored');

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

/** Google Ads campaigns in memory, per customer id (digits), recording what the push changed. */
class FakeAdsAccounts {
  readonly exclusions = new Map<string, Map<string, Map<string, string>>>();
  readonly added = new Map<string, string[]>();
  readonly removed = new Map<string, string[]>();
  readonly linkedCustomers: string[] = [];
  private next = 0;

  constructor(private readonly enabledCampaigns: Record<string, string[]>) {}

  campaign(customerId: string, campaignId: string): Map<string, string> {
    const campaigns = this.exclusions.get(customerId) ?? new Map<string, Map<string, string>>();
    this.exclusions.set(customerId, campaigns);
    const campaign = campaigns.get(campaignId) ?? new Map<string, string>();
    campaigns.set(campaignId, campaign);
    return campaign;
  }

  exclude(customerId: string, campaignId: string, ip: string): string {
    const resourceName = `customers/${customerId}/campaignCriteria/${campaignId}~${++this.next}`;
    this.campaign(customerId, campaignId).set(ip, resourceName);
    return resourceName;
  }

  targetFor = (_credentials: unknown, account: { customerId: string }): AdsExclusionTarget => {
    const customerId = account.customerId.replace(/-/g, '');
    this.linkedCustomers.push(customerId);
    const key = (campaignId: string) => `${customerId}/${campaignId}`;
    return {
      listCampaignIds: async () => this.enabledCampaigns[customerId] ?? [],
      listIpExclusions: async (campaignId): Promise<CurrentExclusion[]> =>
        [...this.campaign(customerId, campaignId)].map(([ip, resourceName]) => ({ ip, resourceName })),
      addIpExclusions: async (campaignId, ips) => {
        this.added.set(key(campaignId), [...(this.added.get(key(campaignId)) ?? []), ...ips]);
        for (const ip of ips) this.exclude(customerId, campaignId, ip);
      },
      removeIpExclusions: async (campaignId, resourceNames) => {
        this.removed.set(key(campaignId), [...(this.removed.get(key(campaignId)) ?? []), ...resourceNames]);
        const campaign = this.campaign(customerId, campaignId);
        for (const [ip, name] of campaign) if (resourceNames.includes(name)) campaign.delete(ip);
      },
    };
  };

  ipsOf(customerId: string, campaignId: string): string[] {
    return [...this.campaign(customerId, campaignId).keys()].sort();
  }

  resetLog(): void {
    this.added.clear();
    this.removed.clear();
    this.linkedCustomers.length = 0;
  }
}

describe('blocklist push', () => {
  const CREDENTIALS = {
    developer_token: 'dev',
    client_id: 'client',
    client_secret: 'secret',
    refresh_token: 'refresh',
  };
  const customerId = () => String(randomInt(1_000_000_000, 9_999_999_999));
  const dashed = (id: string) => `${id.slice(0, 3)}-${id.slice(3, 6)}-${id.slice(6)}`;
  const ip = (block: number, i: number) => `10.${block}.${Math.floor(i / 250)}.${(i % 250) + 1}`;

  async function linkProperty(property: Credentials, config: Record<string, unknown>): Promise<void> {
    // The ad-account link is the operator's setting: the admin key sets it.
    const response = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      admin: true,
      body: config,
    });
    expect(response.status).toBe(200);
  }

  async function seen(propertyId: string, entries: [string, number][], at: number): Promise<void> {
    const { ipReputation } = decisionStores();
    for (let i = 0; i < entries.length; i += 25) {
      await Promise.all(
        entries
          .slice(i, i + 25)
          .map(([address, score]) => ipReputation.recordIpOutcome({ propertyId, ip: address, at, score, reason: 'r' })),
      );
    }
  }

  it("pushes each linked property's blocklist: threshold, allowlist, 500 highest, stale ones removed", async () => {
    const [picked, everyCampaign, disabled, unlinked] = await Promise.all(
      Array.from({ length: 4 }, () => stack.createProperty()),
    );
    const [pickedCustomer, everyCustomer, disabledCustomer] = [customerId(), customerId(), customerId()];
    await linkProperty(picked!, {
      thresholds: { suspicious: 40, fraud: 75 },
      allowlist: ['198.51.100.0/28'],
      adAccount: { provider: 'google_ads', customerId: dashed(pickedCustomer), campaignIds: ['111', '222'] },
    });
    await linkProperty(everyCampaign!, { adAccount: { provider: 'google_ads', customerId: everyCustomer } });
    await linkProperty(disabled!, {
      adAccount: { provider: 'google_ads', customerId: disabledCustomer, campaignIds: ['444'], enabled: false },
    });

    const now = Date.now();
    const hourAgo = now - 3_600_000;
    const top = [ip(1, 0), ip(1, 1)];
    const high = Array.from({ length: 498 }, (_, i) => ip(2, i));
    const pushedOut = Array.from({ length: 10 }, (_, i) => ip(3, i));
    await seen(
      picked!.id,
      [
        ...top.map((a): [string, number] => [a, 99]),
        ...high.map((a): [string, number] => [a, 90]),
        ...pushedOut.map((a): [string, number] => [a, 76]),
        ...Array.from({ length: 5 }, (_, i): [string, number] => [ip(4, i), 74]),
        ['198.51.100.5', 100],
      ],
      hourAgo,
    );
    await seen(picked!.id, [['10.5.0.1', 95]], now - 40 * 86_400_000);
    await seen(
      everyCampaign!.id,
      [
        ['10.6.0.1', 80],
        ['10.6.0.2', 70],
        ['10.6.0.3', 69],
      ],
      hourAgo,
    );
    await seen(disabled!.id, [['10.7.0.1', 95]], hourAgo);
    await seen(unlinked!.id, [['10.8.0.1', 95]], hourAgo);

    const ads = new FakeAdsAccounts({ [everyCustomer]: ['333'] });
    const kept = ads.exclude(pickedCustomer, '111', top[0]!);
    const stale = ads.exclude(pickedCustomer, '111', '10.9.9.9');
    const lowered = ads.exclude(pickedCustomer, '111', pushedOut[0]!);
    const push = blocklistPushHandler({ credentials: async () => CREDENTIALS, targetFor: ads.targetFor });

    const report = await push();
    expect(report.failed).toBe(0);
    expect(report.done).toBeGreaterThanOrEqual(4);

    const wanted = [...top, ...high].sort();
    expect(ads.ipsOf(pickedCustomer, '111')).toEqual(wanted);
    expect(ads.ipsOf(pickedCustomer, '222')).toEqual(wanted);
    expect(ads.campaign(pickedCustomer, '111').get(top[0]!)).toBe(kept);
    expect(ads.removed.get(`${pickedCustomer}/111`)?.sort()).toEqual([stale, lowered].sort());
    expect(ads.added.get(`${pickedCustomer}/111`)).toHaveLength(499);
    expect(ads.added.get(`${pickedCustomer}/222`)?.slice(0, 2).sort()).toEqual(top);
    expect(ads.removed.has(`${pickedCustomer}/222`)).toBe(false);

    expect(ads.ipsOf(everyCustomer, '333')).toEqual(['10.6.0.1', '10.6.0.2']);
    expect(ads.linkedCustomers).not.toContain(disabledCustomer);
    const everyExcluded = [...ads.exclusions.values()].flatMap((campaigns) =>
      [...campaigns.values()].flatMap((campaign) => [...campaign.keys()]),
    );
    expect(everyExcluded.filter((a) => a.startsWith('10.7.') || a.startsWith('10.8.'))).toEqual([]);

    ads.resetLog();
    expect((await push()).failed).toBe(0);
    for (const key of [`${pickedCustomer}/111`, `${pickedCustomer}/222`, `${everyCustomer}/333`]) {
      expect(ads.added.get(key)).toBeUndefined();
      expect(ads.removed.get(key)).toBeUndefined();
    }
    expect(ads.ipsOf(pickedCustomer, '111')).toEqual(wanted);
  });

  it('skips every property while the Google Ads secret is empty or not set', async () => {
    const empty = JSON.stringify({
      developer_token: '',
      client_id: '',
      client_secret: '',
      refresh_token: '',
      login_customer_id: '',
    });
    const targetFor = jest.fn();
    const push = blocklistPushHandler({ credentials: async () => parseGoogleAdsSecret(empty), targetFor });
    expect(await push()).toEqual({ done: 0, failed: 0, skipped: 'not configured' });
    expect(targetFor).not.toHaveBeenCalled();

    expect(process.env[ENV.googleAdsSecretArn]).toBeUndefined();
    expect(await blocklistPush()).toEqual({ done: 0, failed: 0, skipped: 'not configured' });
    await expect(stack.runSchedule('blocklistPush')).resolves.toBeUndefined();
  });
});
