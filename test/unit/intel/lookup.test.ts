import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { bundledIntel } from '../../../shared/intel/current';
import { loadIntelSnapshot } from '../../../shared/intel/lookup';
import { addressToBigInt, bigIntToAddress, type IntelRange, mergeIntervals } from '../../../shared/intel/ranges';
import { readShippedSources } from '../../../shared/intel/shipped';
import { buildIntelSnapshot, type SourceRanges } from '../../../shared/intel/snapshot';
import { sourceDef } from '../../../shared/intel/sources';
import { addressIn, pick, seededRandom } from './sample';

const shipped = readShippedSources();
const intel = bundledIntel();
const rangesOf = (id: SourceRanges['id']) => shipped.find((source) => source.id === id)!.ranges;

describe('the bundled snapshot', () => {
  it('is the build of data/ipintel/ exactly (deterministic and up to date)', () => {
    const { bytes } = buildIntelSnapshot(shipped);
    const file = readFileSync(path.join(__dirname, '../../../shared/intel/snapshot/ipintel.bin'));
    expect(Buffer.from(bytes).equals(file)).toBe(true);
    expect(file.length).toBeLessThan(3 * 1024 * 1024);
  });

  it.each(['aws', 'google-cloud', 'azure', 'oracle', 'digitalocean', 'linode'] as const)(
    'resolves 200 sampled %s addresses to the provider',
    (id) => {
      const random = seededRandom(id.length * 7919);
      const provider = sourceDef(id).label.name;
      for (const range of pick(rangesOf(id), 200, random)) {
        const ip = addressIn(range, random);
        expect({ ip, provider: intel.lookup(ip)?.cloud?.provider }).toEqual({ ip, provider });
      }
    },
  );

  it('resolves AWS service and region of a specific prefix', () => {
    const answer = intel.lookup('3.5.140.1');
    expect(answer?.cloud).toEqual({ provider: 'AWS', service: 'S3', region: 'ap-northeast-2' });
    expect(answer?.category).toBe('cloud');
  });

  it('flags every Tor exit relay address as tor', () => {
    for (const range of rangesOf('tor')) {
      const ip = bigIntToAddress(range.family, range.first);
      expect({ ip, tor: intel.lookup(ip)?.tor }).toEqual({ ip, tor: true });
      expect(intel.lookup(ip)?.category).toBe('tor');
    }
  });

  it.each(['googlebot', 'bingbot', 'duckduckbot', 'openai', 'perplexity'] as const)(
    'resolves sampled %s ranges to the named crawler',
    (id) => {
      const random = seededRandom(id.length * 104729);
      const name = sourceDef(id).label.name;
      for (const range of pick(rangesOf(id), 200, random)) {
        const ip = addressIn(range, random);
        expect({ ip, crawler: intel.lookup(ip)?.crawler?.name }).toEqual({ ip, crawler: name });
      }
    },
  );

  it('flags sampled X4B VPN and datacenter addresses, keeping cloud and vpn together', () => {
    const random = seededRandom(42);
    for (const range of pick(rangesOf('x4b-vpn'), 200, random)) {
      const ip = addressIn(range, random);
      expect({ ip, vpn: intel.lookup(ip)?.vpn }).toEqual({ ip, vpn: true });
    }
    for (const range of pick(rangesOf('x4b-datacenter'), 200, random)) {
      const answer = intel.lookup(addressIn(range, random))!;
      expect(answer.datacenter === true || answer.cloud !== undefined).toBe(true);
    }
  });

  it.each([
    ['10.1.2.3', 'private'],
    ['192.168.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['127.0.0.1', 'loopback'],
    ['100.64.1.1', 'carrierGradeNat'],
    ['169.254.1.1', 'linkLocal'],
    ['203.0.113.7', 'reserved'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['2001:db8::1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('flags %s as bogon (%s)', (ip, range) => {
    expect(intel.lookup(ip)).toMatchObject({ bogon: { range }, category: 'bogon' });
  });

  // The bogon table is built on the numbers at load (shared/intel/lookup.ts rangeTable): it must name every
  // address as ipaddr.js's own range() does, at every special range's edges and anywhere between.
  it("names bogons as ipaddr.js's range() does, at the special ranges' edges and anywhere", () => {
    const edges = (family: 4 | 6) => {
      const Address = family === 4 ? ipaddr.IPv4 : ipaddr.IPv6;
      const special = (Address.prototype as unknown as { SpecialRanges: Record<string, unknown> }).SpecialRanges;
      const bits = family === 4 ? 32n : 128n;
      return Object.values(special).flatMap((entry) =>
        ((Array.isArray((entry as unknown[])[0]) ? entry : [entry]) as [ipaddr.IPv4 | ipaddr.IPv6, number][]).flatMap(
          ([address, prefix]) => {
            const first = addressToBigInt(address);
            const end = first + (1n << (bits - BigInt(prefix)));
            return [first - 1n, first, first + 1n, end - 1n, end].filter((v) => v >= 0n && v < 1n << bits);
          },
        ),
      );
    };
    const routable = new Set(['unicast', '6to4', 'teredo']);
    const check = (family: 4 | 6, value: bigint) => {
      const ip = bigIntToAddress(family, value);
      const parsed = ipaddr.parse(ip);
      const mapped = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress();
      // An IPv4-mapped IPv6 address is answered as IPv4 (above): its bogon is the IPv4 address's.
      const named = mapped ? (parsed as ipaddr.IPv6).toIPv4Address().range() : parsed.range();
      // Outside 2000::/3, an IPv6 address ipaddr.js calls routable is reserved (lookup.ts answer6).
      const outsideGlobalUnicast = family === 6 && value >> 125n !== 1n && parsed.kind() === 'ipv6';
      const expected = !routable.has(named) ? named : outsideGlobalUnicast && !mapped ? 'reserved' : undefined;
      expect({ ip, bogon: intel.lookup(ip)?.bogon?.range }).toEqual({ ip, bogon: expected });
    };
    for (const family of [4, 6] as const) for (const value of edges(family)) check(family, value);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (value) => check(4, value)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => check(6, value)),
      { numRuns: 2000 },
    );
  });

  it('answers an IPv4-mapped IPv6 address as IPv4', () => {
    expect(intel.lookup('::ffff:10.0.0.1')).toMatchObject({ ip: '10.0.0.1', version: 4, bogon: { range: 'private' } });
  });

  // Comcast (73.0.0.0/8, 2601::/20), Deutsche Telekom (84.128.0.0/10), BT (86.128.0.0/10), Verizon Wireless
  // (174.192.0.0/10): residential and mobile ISP space that no cloud, VPN, Tor or crawler list names.
  it.each(['73.162.10.20', '84.150.1.1', '86.150.2.3', '174.205.3.4', '2601:1c0:4a00::1234'])(
    'leaves the residential address %s unflagged',
    (ip) => {
      const answer = intel.lookup(ip)!;
      expect(answer).toEqual({ ip, version: ip.includes(':') ? 6 : 4 });
    },
  );

  it.each(['', 'not-an-ip', '1.2.3', '256.1.1.1', '01.2.3.4', '1.2.3.4/24', ':::', '1.2.3.4 ', '0x7f.0.0.1'])(
    'answers undefined for the invalid string %j',
    (ip) => {
      expect(intel.lookup(ip)).toBeUndefined();
    },
  );
});

describe('binary search against a naive scan (fast-check)', () => {
  const random = seededRandom(2024);
  const sample: SourceRanges[] = shipped.map((source) => ({
    id: source.id,
    version: source.version,
    ranges: pick(source.ranges, 40, random),
  }));
  const small = loadIntelSnapshot(buildIntelSnapshot(sample).bytes);
  const all = sample.flatMap((source) => source.ranges);
  const naive = (family: 4 | 6, value: bigint) =>
    all.filter((range) => range.family === family && range.first <= value && value <= range.last);
  const edges = all.flatMap((range) =>
    [range.first - 1n, range.first, range.last, range.last + 1n].map((v) => [range.family, v] as const),
  );

  const address = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((v) => [4, v] as const),
    fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => [6, v] as const),
    fc.constantFrom(...edges),
  );

  it('agrees on every flag, the cloud provider and the crawler', () => {
    fc.assert(
      fc.property(address, ([family, value]) => {
        if (value < 0n || value >= 1n << (family === 4 ? 32n : 128n)) return;
        if (family === 6 && value >> 32n === 0xffffn) return; // IPv4-mapped: answered as IPv4
        const ip = bigIntToAddress(family, value);
        const answer = small.lookup(ip)!;
        const covering = naive(family, value);
        const has = (category: IntelRange['label']['category']) => covering.some((r) => r.label.category === category);
        expect(answer.tor === true).toBe(has('tor'));
        expect(answer.vpn === true).toBe(has('vpn'));
        expect(answer.cloud !== undefined).toBe(has('cloud'));
        expect(answer.crawler !== undefined).toBe(has('crawler'));
        expect(answer.datacenter === true).toBe(has('datacenter') && !has('cloud'));
        if (answer.cloud) expect(covering.map((r) => r.label.name)).toContain(answer.cloud.provider);
        if (answer.crawler) expect(covering.map((r) => r.label.name)).toContain(answer.crawler.name);
      }),
      { numRuns: 3000 },
    );
  });

  it('recovers each source’s exact coverage from the snapshot', () => {
    for (const source of sample) {
      const recovered = small.rangesOf(source.id);
      for (const family of [4, 6] as const) {
        expect(mergeIntervals(recovered.filter((r) => r.family === family))).toEqual(
          mergeIntervals(source.ranges.filter((r) => r.family === family)),
        );
      }
    }
  });

  it('resolves any address inside a random CIDR of any list in the bundled snapshot', () => {
    const lists = shipped.filter((source) => source.ranges.length > 0);
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (s, r, at) => {
        const source = lists[s % lists.length]!;
        const range = source.ranges[r % source.ranges.length]!;
        const span = range.last - range.first + 1n;
        const value = range.first + (BigInt(Math.floor(at * 2 ** 52)) * span) / 2n ** 52n;
        const answer = intel.lookup(bigIntToAddress(range.family, value))!;
        const category = source.ranges[0]!.label.category;
        const flagged = {
          tor: answer.tor === true,
          crawler: answer.crawler !== undefined,
          cloud: answer.cloud !== undefined,
          vpn: answer.vpn === true,
          datacenter: answer.datacenter === true || answer.cloud !== undefined,
        }[category];
        expect(flagged || answer.bogon !== undefined).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
