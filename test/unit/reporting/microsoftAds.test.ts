import {
  MICROSOFT_CSV_HEADER,
  microsoftExclusionRows,
  microsoftExclusionsCsv,
} from '../../../shared/googleAds/microsoftAds';
import { selectExclusions } from '../../../shared/googleAds/selection';

const at = Date.UTC(2026, 10, 30, 5, 0, 0);
const bad = (ip: string, score: number, reason = 'datacenter_ip', minutesAgo = 1) => ({
  ip,
  score,
  reason,
  lastSeen: at - minutesAgo * 60_000,
});

function selection(limit: number, allowlist: string[] = []) {
  return selectExclusions({
    bad: [
      bad('198.51.100.7', 97, 'velocity, "burst" of 40 clicks'),
      bad('203.0.113.1', 90),
      bad('203.0.113.2', 91),
      bad('203.0.113.3', 92),
      bad('2001:db8::1', 88, '=HYPERLINK("x")'),
      bad('192.0.2.9', 85),
    ],
    neighbours: [],
    allowlist,
    suppressed: new Set(['192.0.2.9']),
    room: { account: 0, campaign: limit },
  });
}

describe('Microsoft Advertising IP exclusion file', () => {
  it('is the exact CSV: header, one address per row best first, a collapsed range as its bad addresses, escaped', () => {
    const rows = microsoftExclusionRows(selection(500), 500);
    const csv = microsoftExclusionsCsv(rows, '812345678');
    const range = '3 bad addresses in 203.0.113.0/24; top: datacenter_ip';
    expect(csv).toBe(
      [
        'IP address,Campaign Id,Score,Last seen (UTC),Reason',
        '198.51.100.7,812345678,97,2026-11-30T04:59:00.000Z,"velocity, ""burst"" of 40 clicks"',
        `203.0.113.1,812345678,92,2026-11-30T04:59:00.000Z,${range}`,
        `203.0.113.2,812345678,92,2026-11-30T04:59:00.000Z,${range}`,
        `203.0.113.3,812345678,92,2026-11-30T04:59:00.000Z,${range}`,
        `2001:db8::1,812345678,88,2026-11-30T04:59:00.000Z,"'=HYPERLINK(""x"")"`,
        '',
      ].join('\r\n'),
    );
    expect(MICROSOFT_CSV_HEADER[0]).toBe('IP address');
  });

  it('leaves the campaign column empty without a campaign id, never writes a taken-back or allowlisted address', () => {
    const csv = microsoftExclusionsCsv(microsoftExclusionRows(selection(500, ['198.51.100.0/24']), 500));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines.map((l) => l.split(',')[0])).toEqual([
      'IP address',
      '203.0.113.1',
      '203.0.113.2',
      '203.0.113.3',
      '2001:db8::1',
    ]);
    expect(lines.slice(1).every((l) => l.split(',')[1] === '')).toBe(true);
    expect(csv).not.toContain('192.0.2.9');
  });

  it('never holds more rows than the limit, dropping the lowest ranked', () => {
    const rows = microsoftExclusionRows(selection(2), 2);
    expect(rows.map((r) => r.ip)).toEqual(['198.51.100.7', '203.0.113.1']);
    expect(microsoftExclusionRows(selection(500), 3)).toHaveLength(3);
    expect(microsoftExclusionsCsv([])).toBe('IP address,Campaign Id,Score,Last seen (UTC),Reason\r\n');
  });
});
