import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { bundledIntel } from '../../../shared/intel/current';
import { parseHostingAsnList, reviewedHostingAsns } from '../../../shared/intel/hostingAsn';
import { bigIntToAddress } from '../../../shared/intel/ranges';
import { refreshIntel } from '../../../shared/intel/refresh';
import { SHIPPED_DATA_DIR } from '../../../shared/intel/shipped';
import { parseDocument, SOURCES, type SourceDocument, type SourceId, sourceDef } from '../../../shared/intel/sources';
import { S3Reader } from '../../../shared/store/aws/s3';

/**
 * Recorded excerpts of the upstream ASN database (@ip-location-db/asn 2.3.2026061719, asn-ipv4.csv and
 * asn-ipv6.csv, the files https://cdn.jsdelivr.net/npm/@ip-location-db/asn/ serves): Amazon, Hetzner and
 * DigitalOcean next to Comcast and T-Mobile US.
 */
const recorded = (file: string) => readFileSync(path.join(__dirname, 'recorded', file), 'utf8');
const hosting = sourceDef('hosting-asn');
const reviewed = reviewedHostingAsns();

describe('hosting-ASN refresh from the upstream ASN database', () => {
  it('refreshes from the ip-location-db ASN CSVs (IPv4 and IPv6)', () => {
    expect(hosting.upstream.map((d) => d.location)).toEqual([
      'https://cdn.jsdelivr.net/npm/@ip-location-db/asn/asn-ipv4.csv',
      'https://cdn.jsdelivr.net/npm/@ip-location-db/asn/asn-ipv6.csv',
    ]);
  });

  it('bundles the reviewed list exactly as data/ipintel/asn/hosting-asns.txt has it (npm run intel:build)', () => {
    const list = parseHostingAsnList(readFileSync(path.join(SHIPPED_DATA_DIR, 'asn', 'hosting-asns.txt'), 'utf8'));
    expect([...reviewed.values()]).toEqual([...list.values()]);
    expect(reviewed.get(14061)?.org).toBe('DigitalOcean');
    expect(reviewed.has(16509)).toBe(true);
    for (const eyeball of [7922, 21928, 3320]) expect(reviewed.has(eyeball)).toBe(false);
  });

  it('applies the reviewed list to a recorded upstream sample: hosting ranges in, carriers and home ISPs out', () => {
    const v4 = parseDocument(hosting, 'ip-location-db-asn', recorded('asn-ipv4.sample.csv'), reviewed);
    const v6 = parseDocument(hosting, 'ip-location-db-asn', recorded('asn-ipv6.sample.csv'), reviewed);
    const names = [...v4.ranges, ...v6.ranges].map((r) => `${bigIntToAddress(r.family, r.first)} ${r.label.name}`);
    expect(names).toEqual([
      '1.44.96.0 Amazon (AWS) (AS16509)',
      '1.118.3.0 Amazon (AWS) (AS16509)',
      '1.178.1.0 Amazon (AWS) (AS16509)',
      '2.28.0.0 Hetzner Online (AS24940)',
      '5.9.0.0 Hetzner Online (AS24940)',
      '5.101.96.0 DigitalOcean (AS14061)',
      '24.144.64.0 DigitalOcean (AS14061)',
      '24.144.76.0 DigitalOcean (AS14061)',
      '24.199.64.0 DigitalOcean (AS14061)',
      '2400:6180:: DigitalOcean (AS14061)',
      '2400:6180:100:: DigitalOcean (AS14061)',
    ]);
    expect(v4.ranges.every((r) => r.label.category === 'cloud')).toBe(true);
    expect(() => parseDocument(hosting, 'ip-location-db-asn', recorded('asn-ipv4.sample.csv'))).toThrow(/reviewed/);
  });

  describe('in the scheduled refresh, behind the same guards as every source', () => {
    let server: Server;
    let base: string;
    const bodies = new Map<string, string>();
    beforeAll(async () => {
      server = createServer((request, response) => {
        const body = bodies.get(request.url ?? '');
        response.statusCode = body === undefined ? 404 : 200;
        // No keep-alive: a socket the server closes while idle would fail the next refresh's download.
        response.setHeader('connection', 'close');
        response.end(body ?? '');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** Every other source unreachable (kept); hosting-asn from the local upstream. */
    async function refreshWith(v4: string, v6: string) {
      bodies.set('/asn-ipv4.csv', v4);
      bodies.set('/asn-ipv6.csv', v6);
      const upstream: Partial<Record<SourceId, readonly SourceDocument[]>> = {};
      for (const source of SOURCES) upstream[source.id] = [{ format: 'cidr-list', location: `${base}/missing` }];
      upstream['hosting-asn'] = [
        { format: 'ip-location-db-asn', location: `${base}/asn-ipv4.csv` },
        { format: 'ip-location-db-asn', location: `${base}/asn-ipv6.csv` },
      ];
      const sent: unknown[] = [];
      const s3 = { send: async (command: unknown) => sent.push(command) } as unknown as S3Client;
      const report = await refreshIntel({
        s3,
        reader: new S3Reader(),
        bucket: 'b',
        upstream,
        previous: bundledIntel(),
        fetchTimeoutMs: 30_000,
      });
      return { outcome: report.sources.find((s) => s.id === 'hosting-asn'), report, sent };
    }

    it('keeps the shipped ranges when the upstream lost most of them (a sample is not the database)', async () => {
      const { outcome, report } = await refreshWith(recorded('asn-ipv4.sample.csv'), recorded('asn-ipv6.sample.csv'));
      expect(outcome).toMatchObject({ status: 'kept', reason: 'shrank' });
      expect(report.sources.filter((s) => s.status === 'refreshed')).toEqual([]);
    });

    /** The upstream database as the release saw it (the shipped ranges as `first,last,asn,org`). */
    const asReleased = () => {
      const lines = readFileSync(path.join(SHIPPED_DATA_DIR, 'asn', 'hosting-ranges.csv'), 'utf8')
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => `${line},x`);
      return { v4: lines.filter((l) => !l.includes(':')), v6: lines.filter((l) => l.includes(':')) };
    };

    it('refreshes from the full upstream database (one new DigitalOcean range)', async () => {
      const { v4, v6 } = asReleased();
      const grown = await refreshWith([...v4, '203.0.113.0,203.0.113.255,14061,x'].join('\n'), v6.join('\n'));
      expect(grown.outcome?.status).toBe('refreshed');
      expect(grown.outcome?.ranges).toBeGreaterThan(bundledIntel().rangesOf('hosting-asn').length * 0.9);
      expect(grown.sent.length).toBe(2);
    });

    it('keeps the previous ranges when the upstream maps a /7 to a reviewed AS', async () => {
      const { v4, v6 } = asReleased();
      const poisoned = await refreshWith([...v4, '12.0.0.0,13.255.255.255,14061,x'].join('\n'), v6.join('\n'));
      expect(poisoned.outcome).toMatchObject({ status: 'kept', reason: 'implausible' });
    });
  });
});
