import { blocklistCsv, buildBlocklist } from '../../../shared/reporting/blocklist';
import { dateRangeProblem, dayInZone, dayRangeBounds, rangeDays, startOfDay } from '../../../shared/reporting/calendar';
import { exportRow } from '../../../shared/reporting/clickCsv';
import { formatPercent, topRules } from '../../../shared/reporting/summaries';
import { MemoryClickStore, mergeSorted, rollupDelta } from '../../../shared/store';
import { clickFixture, outcomeFor } from './fixtures';

describe('calendar days in a time zone', () => {
  it('puts an instant on the local date', () => {
    const at = Date.UTC(2026, 5, 30, 18, 30); // 01:30 on July 1st in Ho Chi Minh City (UTC+7)
    expect(dayInZone(at, 'Asia/Ho_Chi_Minh')).toBe('2026-07-01');
    expect(dayInZone(at, 'America/New_York')).toBe('2026-06-30');
  });

  it('finds local midnight, also on DST change days', () => {
    expect(startOfDay('2026-07-01', 'Asia/Ho_Chi_Minh')).toBe(Date.UTC(2026, 5, 30, 17));
    expect(startOfDay('2026-03-08', 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5));
    const { fromMs, toMs } = dayRangeBounds('2026-03-08', '2026-03-08', 'America/New_York');
    expect(toMs - fromMs).toBe(23 * 3_600_000);
  });

  it('lists the days of a stats range ending today', () => {
    const now = Date.UTC(2026, 0, 3, 20); // Jan 4th in UTC+7
    expect(rangeDays('today', now, 'Asia/Ho_Chi_Minh')).toEqual(['2026-01-04']);
    expect(rangeDays('7days', now, 'UTC')).toEqual([
      '2025-12-28',
      '2025-12-29',
      '2025-12-30',
      '2025-12-31',
      '2026-01-01',
      '2026-01-02',
      '2026-01-03',
    ]);
    expect(rangeDays('90days', now, 'UTC')).toHaveLength(90);
  });

  it('refuses reversed, impossible and over-long date ranges', () => {
    expect(dateRangeProblem('2026-06-01', '2026-06-30')).toBeUndefined();
    expect(dateRangeProblem('2026-06-30', '2026-06-01')).toEqual({ from: 'must not be after to' });
    expect(dateRangeProblem('2026-02-30', '2026-03-01')).toEqual({ from: 'not a calendar date' });
    expect(dateRangeProblem('2025-01-01', '2026-01-01')).toBeUndefined();
    expect(dateRangeProblem('2024-01-01', '2025-01-01')).toBeDefined();
  });
});

describe('stats figures', () => {
  it('formats fraud rates with one decimal', () => {
    expect(formatPercent(24, 1000)).toBe('2.4%');
    expect(formatPercent(1, 3)).toBe('33.3%');
    expect(formatPercent(0, 0)).toBe('0.0%');
    expect(formatPercent(5, 5)).toBe('100.0%');
  });

  it('sorts top rules by count, stable by name, without netted-out rules', () => {
    expect(topRules({ a: 3, b: 7, c: 3, d: 0 }, 2)).toEqual([
      { rule: 'b', count: 7 },
      { rule: 'a', count: 3 },
    ]);
  });

  it('moves a re-scored click between buckets and leaves the total alone', () => {
    const delta = rollupDelta({ before: outcomeFor(10), after: outcomeFor(80, ['honeypot']), isNewClick: false });
    expect(Object.fromEntries(delta)).toEqual({
      'label:CLEAN': -1,
      'label:FRAUD': 1,
      'action:ALLOW': -1,
      'action:BLOCK': 1,
      'level:low': -1,
      'level:high': 1,
      'botAction:record_only': -1,
      'botAction:flag': 1,
      'rule:honeypot': 1,
    });
    expect(rollupDelta({ before: outcomeFor(50), after: outcomeFor(50), isNewClick: false }).size).toBe(0);
    expect(rollupDelta({ after: outcomeFor(50), isNewClick: true }).get('clicks')).toBe(1);
  });
});

describe('blocklist', () => {
  const records = [
    { ip: '203.0.113.9', score: 80, reason: 'datacenter_ip', lastSeen: 5000, clicks: 1 },
    { ip: '198.51.100.4', score: 95, reason: 'tor_exit', lastSeen: 4000, clicks: 1 },
    { ip: '10.1.2.3', score: 99, reason: 'honeypot', lastSeen: 6000, clicks: 1 },
    { ip: '203.0.113.10', score: 80, reason: 'rapid_clicks', lastSeen: 7000, clicks: 1 },
    { ip: '192.0.2.1', score: 60, reason: 'rapid_clicks', lastSeen: 7000, clicks: 1 },
    { ip: '192.0.2.2', score: 90, reason: 'old', lastSeen: 500, clicks: 1 },
  ];

  it('keeps addresses at or above the threshold in the window, highest first, never the allowlist', () => {
    const list = buildBlocklist(records, { threshold: 70, allowlist: ['10.0.0.0/8'], sinceMs: 1000 });
    expect(list.map((e) => e.ip)).toEqual(['198.51.100.4', '203.0.113.10', '203.0.113.9']);
    expect(list[0]).toEqual({
      ip: '198.51.100.4',
      score: 95,
      lastSeen: new Date(4000).toISOString(),
      reason: 'tor_exit',
    });
  });

  it('writes the contract CSV header and quotes what needs quoting', () => {
    const csv = blocklistCsv([{ ip: '192.0.2.1', score: 90, lastSeen: '2026-01-01T00:00:00.000Z', reason: 'a,b' }]);
    expect(csv).toBe('ip,score,lastSeen,reason\n192.0.2.1,90,2026-01-01T00:00:00.000Z,"a,b"\n');
  });
});

describe('export rows and ordering', () => {
  it('maps a click to the contract columns', () => {
    const click = clickFixture('prop_a', 'clk_x', Date.UTC(2026, 0, 1), 92);
    expect(exportRow(click)).toEqual([
      'clk_x',
      'ct_x',
      '2026-01-01T00:00:00.000Z',
      '203.0.113.92',
      'true',
      '92',
      'critical',
      'challenge',
    ]);
    expect(exportRow({ ...clickFixture('prop_a', 'clk_y', 0, 12), clickToken: undefined })[4]).toBe('false');
  });

  it('merges sorted sources into one sorted stream, each item once', async () => {
    async function* from(items: string[]) {
      yield* items;
    }
    const merged: string[] = [];
    for await (const item of mergeSorted([from(['a', 'd', 'e']), from([]), from(['b', 'c', 'f'])], (s) => s))
      merged.push(item);
    expect(merged).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('the in-memory click store returns a half-open range in time order', async () => {
    const store = new MemoryClickStore();
    for (const [id, at] of [
      ['clk_b', 20],
      ['clk_a', 20],
      ['clk_c', 10],
      ['clk_d', 30],
    ] as const) {
      await store.putClick(clickFixture('prop_a', id, at, 1));
    }
    await store.putClick(clickFixture('prop_b', 'clk_e', 15, 1));
    const ids: string[] = [];
    for await (const click of store.clicksInRange('prop_a', 10, 30)) ids.push(click.clickId);
    expect(ids).toEqual(['clk_c', 'clk_a', 'clk_b']);
  });
});
