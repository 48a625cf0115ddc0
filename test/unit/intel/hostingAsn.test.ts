import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bundledIntel } from '../../../shared/intel/current';
import { parseHostingAsnList, parseHostingRanges, selectHostingRanges } from '../../../shared/intel/hostingAsn';
import { SHIPPED_DATA_DIR } from '../../../shared/intel/shipped';

const list = readFileSync(path.join(SHIPPED_DATA_DIR, 'asn', 'hosting-asns.txt'), 'utf8');

describe('hosting networks by ASN', () => {
  it('the reviewed list gives every AS an organisation and a reason, and lists no eyeball or mobile network', () => {
    const asns = parseHostingAsnList(list);
    expect(asns.size).toBeGreaterThan(30);
    for (const a of asns.values()) expect(a.reason.length).toBeGreaterThan(5);
    // Comcast, Deutsche Telekom, BT, Orange, Vodafone, T-Mobile US, Verizon Wireless, AT&T, Cloudflare (WARP),
    // Akamai (iCloud Private Relay), Google (Fi, proxies).
    for (const eyeball of [7922, 3320, 2856, 3215, 3209, 21928, 6167, 7018, 13335, 20940, 36183, 15169])
      expect(asns.has(eyeball)).toBe(false);
    expect(() => parseHostingAsnList('AS1 | no reason')).toThrow(/line 1/);
  });

  it('selects the listed ASNs from the ASN database and merges adjacent ranges', () => {
    const asns = parseHostingAsnList('AS24940 | Hetzner Online | servers');
    const csv = [
      '5.9.0.0,5.9.127.255,24940,Hetzner Online GmbH',
      '5.9.128.0,5.9.255.255,24940,Hetzner Online GmbH',
      '5.10.0.0,5.10.0.255,3320,Deutsche Telekom AG',
      '2a01:4f8::,2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff,24940,Hetzner Online GmbH',
    ].join('\n');
    const lines = selectHostingRanges(csv, asns);
    expect(lines).toEqual(['5.9.0.0,5.9.255.255,24940', '2a01:4f8::,2a01:4f8:ffff:ffff:ffff:ffff:ffff:ffff,24940']);
    const parsed = parseHostingRanges(['# AS24940 Hetzner Online', ...lines, 'bad,line,1'].join('\n'));
    expect(parsed.ranges).toHaveLength(2);
    expect(parsed.skipped).toBe(1);
    expect(parsed.ranges[0]?.label).toEqual({ category: 'cloud', name: 'Hetzner Online (AS24940)' });
  });

  it('the shipped snapshot names hosting networks and leaves home broadband and mobile carriers alone', () => {
    const intel = bundledIntel();
    expect(intel.lookup('88.198.1.1')?.cloud?.provider).toBe('Hetzner Online (AS24940)');
    expect(intel.lookup('51.15.1.1')?.cloud?.provider).toContain('AS12876');
    // A published cloud list stays the more specific label.
    expect(intel.lookup('3.5.140.2')?.cloud?.provider).toBe('AWS');
    for (const home of [
      '73.12.34.56',
      '79.200.1.2',
      '86.140.3.4',
      '90.12.3.4',
      '172.56.10.20',
      '81.2.69.160',
      '2600:1700::1',
    ])
      expect(intel.lookup(home)?.category).toBeUndefined();
  });
});
