import { createReadStream, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { intelRefreshHandler } from '../../functions/scheduled/intel-refresh';
import { ENV } from '../../shared/config/env';
import { bundledIntel, INTEL_POINTER_KEY, IntelSource } from '../../shared/intel/current';
import { parseTorExitRelays } from '../../shared/intel/parsers';
import { bigIntToAddress } from '../../shared/intel/ranges';
import { SHIPPED_DATA_DIR } from '../../shared/intel/shipped';
import { SOURCES, type SourceDocument, type SourceId } from '../../shared/intel/sources';
import { s3Reader } from '../../shared/store/clients';
import { s3 } from '../../shared/store/s3Sdk';

const bucket = process.env[ENV.bucketName]!;

/** Serves data/ipintel/ as the upstreams would: the Azure page links to the dated JSON, Tor also as a bulk list. */
function startUpstream(): Promise<Server> {
  const torBulk = parseTorExitRelays(readFileSync(path.join(SHIPPED_DATA_DIR, 'tor/exit-relays.csv'), 'utf8'))
    .ranges.map((range) => bigIntToAddress(range.family, range.first))
    .join('\n');
  const server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/azure/details') {
      response.end(`<a href="http://${request.headers.host}/azure/ServiceTags_Public_20250721.json">download</a>`);
    } else if (url === '/azure/ServiceTags_Public_20250721.json') {
      createReadStream(path.join(SHIPPED_DATA_DIR, 'cloud/microsoft-azure-ip-ranges.json')).pipe(response);
    } else if (url === '/torbulkexitlist') {
      response.end(torBulk);
    } else if (url.startsWith('/files/') && !url.includes('..')) {
      createReadStream(path.join(SHIPPED_DATA_DIR, decodeURIComponent(url.slice('/files/'.length))))
        .on('error', () => {
          response.statusCode = 404;
          response.end();
        })
        .pipe(response);
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('intel refresh into S3', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = await startUpstream();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function upstream(overrides: Partial<Record<SourceId, readonly SourceDocument[]>> = {}) {
    const map: Partial<Record<SourceId, readonly SourceDocument[]>> = {};
    for (const source of SOURCES) {
      map[source.id] = source.shipped.map((document) => ({
        ...document,
        location: `${base}/files/${document.location}`,
      }));
    }
    map.azure = [{ format: 'azure-download-page', location: `${base}/azure/details` }];
    map.tor = [
      { format: 'tor-exit-relays', location: `${base}/files/tor/exit-relays.csv` },
      { format: 'tor-bulk-exit-list', location: `${base}/torbulkexitlist` },
    ];
    return { ...map, ...overrides };
  }

  it('keeps a failing or shrunken source, publishes the rest, and currentIntel picks it up', async () => {
    let clock = 0;
    const source = new IntelSource({ s3: s3Reader, bucket, maxAgeMs: 1000, now: () => clock });
    expect((await source.get()).version).toBe(bundledIntel().version);

    const report = await intelRefreshHandler(
      upstream({
        oracle: [{ format: 'oracle-cloud', location: `${base}/files/missing.json` }],
        'x4b-vpn': [{ format: 'cidr-list', location: `${base}/files/crawlers/perplexity-ipv4.txt` }],
        perplexity: [{ format: 'cidr-list', location: `${base}/files/cloud/linode.txt` }],
      }),
    )();

    const status = Object.fromEntries(report.sources.map((s) => [s.id, s.reason ?? s.status]));
    expect(status).toMatchObject({ aws: 'refreshed', azure: 'refreshed', tor: 'refreshed', oracle: 'download' });
    // Twelve addresses in place of ten thousand VPN netblocks: more than half lost, so the old list is kept.
    expect(status['x4b-vpn']).toBe('shrank');
    // A geofeed is not a CIDR list: every line malformed, nothing parsed.
    expect(status.perplexity).toBe('empty');
    expect(report.published).toBe(true);

    const pointer = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: INTEL_POINTER_KEY }))).Body!.transformToString(),
    );
    expect(pointer).toMatchObject({ version: report.version, key: `intel/${report.version}.bin` });

    clock += 1000;
    await source.get(); // starts the background check
    await source.settled();
    const fresh = await source.get();
    expect(fresh.version).toBe(report.version);
    // Kept sources still answer, from the previous snapshot's ranges.
    expect(fresh.lookup('129.80.0.1')?.cloud?.provider).toBe('Oracle Cloud');
    expect(fresh.lookup('3.5.140.1')?.cloud).toEqual({ provider: 'AWS', service: 'S3', region: 'ap-northeast-2' });

    const again = await intelRefreshHandler(upstream())();
    expect(again.sources.every((s) => s.status === 'refreshed')).toBe(true);
  });
});
