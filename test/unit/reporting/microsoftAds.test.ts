import {
  MICROSOFT_CSV_HEADER,
  microsoftEntry,
  microsoftExclusionRows,
  microsoftExclusionsCsv,
  microsoftExclusionsFile,
} from '../../../shared/googleAds/microsoftAds';
import { MICROSOFT_MAX_IP_EXCLUSIONS, selectExclusions } from '../../../shared/googleAds/selection';
import { DEFAULT_CONFIG, type EffectiveConfig } from '../../../shared/properties/config';
import { MemoryExclusionLedger } from '../../../shared/store/exclusionLedger';
import { MemoryIpReputationStore } from '../../../shared/store/ipReputation';

const at = Date.UTC(2026, 10, 30, 5, 0, 0);
const bad = (ip: string, score: number, reason = 'datacenter_ip', clicks = 1) => ({
  ip,
  score,
  reason,
  lastSeen: at - 60_000,
  clicks,
});

function selection(limit: number, allowlist: string[] = []) {
  return selectExclusions({
    bad: [
      bad('198.51.100.7', 97, 'velocity, "burst"', 40),
      bad('203.0.113.1', 90),
      bad('203.0.113.2', 91),
      bad('203.0.113.3', 92),
      bad('192.0.2.10', 88, '=HYPERLINK("x")'),
      bad('192.0.2.9', 85),
    ],
    neighbours: [],
    allowlist,
    suppressed: new Set(['192.0.2.9']),
    room: { account: 0, campaign: limit },
    now: at,
  });
}

describe('Microsoft Advertising IP exclusion file', () => {
  it('is the exact CSV: best first, a collapsed /24 in Microsoft’s wildcard syntax, the click count, escaped', () => {
    const csv = microsoftExclusionsCsv(microsoftExclusionRows(selection(100), 100), '812345678');
    expect(csv).toBe(
      [
        'IP address,Campaign Id,Score,Clicks,Last seen (UTC),Reason',
        '198.51.100.7,812345678,97,40,2026-11-30T04:59:00.000Z,"velocity, ""burst"" (40 clicks)"',
        '203.0.113.*,812345678,92,3,2026-11-30T04:59:00.000Z,3 bad addresses in 203.0.113.0/24 (3 clicks); top: datacenter_ip',
        `192.0.2.10,812345678,88,1,2026-11-30T04:59:00.000Z,"'=HYPERLINK(""x"") (1 click)"`,
        '',
      ].join('\r\n'),
    );
    expect(MICROSOFT_CSV_HEADER[0]).toBe('IP address');
  });

  it('writes only what Microsoft documents: four octets, the wildcard in the last one only', () => {
    expect(microsoftEntry('203.0.113.0/24')).toBe('203.0.113.*');
    expect(microsoftEntry('198.51.100.7')).toBe('198.51.100.7');
    for (const row of microsoftExclusionRows(selection(100), 100))
      expect(row.ip).toMatch(/^(\d{1,3}\.){3}(\d{1,3}|\*)$/);
  });

  it('leaves the campaign column empty without a campaign id, never writes a taken-back or allowlisted address', () => {
    const csv = microsoftExclusionsCsv(microsoftExclusionRows(selection(100, ['198.51.100.0/24']), 100));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines.map((l) => l.split(',')[0])).toEqual(['IP address', '203.0.113.*', '192.0.2.10']);
    expect(lines.slice(1).every((l) => l.split(',')[1] === '')).toBe(true);
    expect(csv).not.toContain('192.0.2.9');
  });

  it('never holds more entries than the limit, dropping the lowest ranked', () => {
    expect(microsoftExclusionRows(selection(2), 2).map((r) => r.ip)).toEqual(['198.51.100.7', '203.0.113.*']);
    expect(microsoftExclusionsCsv([])).toBe('IP address,Campaign Id,Score,Clicks,Last seen (UTC),Reason\r\n');
  });

  it('from the stores: IPv4 only, at most Microsoft’s 100 per campaign even when asked for more', async () => {
    const ipReputation = new MemoryIpReputationStore();
    for (let i = 0; i < 130; i++) {
      const ip = `10.${Math.floor(i / 2)}.0.${i % 2 ? 1 : 200}`; // two per /24: never collapsed
      await ipReputation.recordIpOutcome({ propertyId: 'prop_m', ip, at: at - i * 1000, score: 90, reason: 'tor' });
    }
    await ipReputation.recordIpOutcome({ propertyId: 'prop_m', ip: '2001:db8::1', at, score: 99, reason: 'tor' });
    const config: EffectiveConfig = {
      ...DEFAULT_CONFIG,
      thresholds: { suspicious: 40, fraud: 70 },
      adAccount: null,
      name: 'p',
      currency: 'USD',
      timezone: 'UTC',
      plan: 'free',
    };
    const file = await microsoftExclusionsFile(
      { ipReputation, ledger: new MemoryExclusionLedger(), now: at },
      { propertyId: 'prop_m', config },
      { limit: 500 },
    );
    expect(file.rows).toBe(MICROSOFT_MAX_IP_EXCLUSIONS);
    expect(file.csv).not.toContain('2001:db8');
    expect(file.csv.trimEnd().split('\r\n')).toHaveLength(MICROSOFT_MAX_IP_EXCLUSIONS + 1);
  });
});
