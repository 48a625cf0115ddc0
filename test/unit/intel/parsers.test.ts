import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  azureServiceTagsLink,
  parseAwsIpRanges,
  parseAzureServiceTags,
  parseCidrList,
  parseGeofeed,
  parseTorBulkExitList,
  parseTorExitRelays,
} from '../../../shared/intel/parsers';
import { bigIntToAddress, parseCidr } from '../../../shared/intel/ranges';
import { readShippedSource, SHIPPED_DATA_DIR } from '../../../shared/intel/shipped';
import { SOURCES } from '../../../shared/intel/sources';

const read = (file: string) => readFileSync(path.join(SHIPPED_DATA_DIR, file), 'utf8');
const lines = (file: string) =>
  read(file)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));

describe('parsers on the shipped provider files', () => {
  it('reads every AWS prefix, IPv4 and IPv6, with service and region', () => {
    const raw = JSON.parse(read('cloud/aws-ip-ranges.json'));
    const parsed = parseAwsIpRanges(read('cloud/aws-ip-ranges.json'));
    expect(parsed.skipped).toBe(0);
    expect(parsed.ranges).toHaveLength(raw.prefixes.length + raw.ipv6_prefixes.length);
    expect(parsed.version).toContain('1753388594');
    const first = parsed.ranges[0]!;
    expect(bigIntToAddress(4, first.first)).toBe(raw.prefixes[0].ip_prefix.split('/')[0]);
    expect(first.label).toEqual({ category: 'cloud', name: 'AWS', service: 'AMAZON', region: 'eu-west-1' });
    expect(parsed.ranges.some((range) => range.family === 6)).toBe(true);
  });

  it('reads all 90k Azure service-tag prefixes with the tag’s service and region', () => {
    const parsed = parseAzureServiceTags(read('cloud/microsoft-azure-ip-ranges.json'));
    expect(parsed.skipped).toBe(0);
    expect(parsed.ranges.length).toBe(90493);
    expect(parsed.version).toBe('changeNumber 363');
    expect(parsed.ranges[0]!.label).toEqual({ category: 'cloud', name: 'Azure', service: 'ActionGroup' });
  });

  it('reads both geofeeds (DigitalOcean CSV and Linode) line for line', () => {
    const digitalocean = parseGeofeed(read('cloud/digitalocean.csv'), 'DigitalOcean');
    expect(digitalocean.ranges).toHaveLength(lines('cloud/digitalocean.csv').length);
    expect(digitalocean.ranges[0]!.label).toEqual({ category: 'cloud', name: 'DigitalOcean', region: 'Amsterdam' });
    const linode = parseGeofeed(read('cloud/linode.txt'), 'Linode');
    expect(linode.skipped).toBe(0);
    expect(linode.ranges).toHaveLength(lines('cloud/linode.txt').length);
    expect(linode.version).toBe('2025-07-24 10:00:06.525037');
  });

  it('reads every shipped source without a malformed line', () => {
    for (const source of SOURCES) {
      const shipped = readShippedSource(source);
      expect({ id: source.id, skipped: shipped.skipped }).toEqual({ id: source.id, skipped: 0 });
      expect(shipped.ranges.length).toBeGreaterThan(0);
      expect(shipped.ranges.every((range) => range.label.category === source.label.category)).toBe(true);
    }
  });

  it('reads the X4B lists in both families', () => {
    const v4 = parseCidrList(read('x4bnet/vpn-ipv4.txt'), { category: 'vpn' });
    const v6 = parseCidrList(read('x4bnet/vpn-ipv6.txt'), { category: 'vpn' });
    expect(v4.ranges).toHaveLength(lines('x4bnet/vpn-ipv4.txt').length);
    expect(v6.ranges).toHaveLength(lines('x4bnet/vpn-ipv6.txt').length);
    expect(v6.ranges.every((range) => range.family === 6)).toBe(true);
  });

  it('reads Tor exit relays and the canonical bulk exit list to the same addresses', () => {
    const relays = parseTorExitRelays(read('tor/exit-relays.csv'));
    expect(relays.ranges).toHaveLength(lines('tor/exit-relays.csv').length - 1);
    expect(relays.ranges.every((range) => range.first === range.last)).toBe(true);
    const addresses = [...new Set(relays.ranges.map((range) => bigIntToAddress(range.family, range.first)))];
    const bulk = parseTorBulkExitList(addresses.join('\n') + '\n');
    expect(bulk.skipped).toBe(0);
    expect(bulk.ranges.map((range) => range.first)).toEqual(
      addresses.map((a) => parseCidr(a, { category: 'tor' })!.first),
    );
  });

  it('skips malformed lines instead of failing the list, and rejects non-canonical IPv4', () => {
    const parsed = parseCidrList('# comment\n1.2.3.0/24\nbogus\n01.2.3.4\n1.2.3.4/33\n::/0\n\n', { category: 'vpn' });
    expect(parsed.ranges).toHaveLength(2);
    expect(parsed.skipped).toBe(3);
    expect(() => parseAwsIpRanges('{"prefixes": 3}')).toThrow();
  });

  it('clears host bits of a prefix published with them set', () => {
    const range = parseCidr('10.1.2.3/8', { category: 'vpn' })!;
    expect([bigIntToAddress(4, range.first), bigIntToAddress(4, range.last)]).toEqual(['10.0.0.0', '10.255.255.255']);
  });

  it('finds the dated ServiceTags file on the Azure download page', () => {
    const page = '<a href="https://download.microsoft.com/download/7/1/D/x/ServiceTags_Public_20250721.json">';
    expect(azureServiceTagsLink(page)).toBe(
      'https://download.microsoft.com/download/7/1/D/x/ServiceTags_Public_20250721.json',
    );
    expect(azureServiceTagsLink('<html></html>')).toBeUndefined();
  });
});
