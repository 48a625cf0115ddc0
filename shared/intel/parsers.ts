import { createHash } from 'node:crypto';
import * as z from 'zod';
import { definedOnly } from '../optional';
import { type IntelRange, parseCidr, type RangeLabel } from './ranges';

/**
 * One parser per provider format: the provider's own text in, labelled ranges out. Pure: no I/O.
 * Structural errors (not the provider's JSON shape) throw; a malformed line in a line-based list is
 * skipped and counted in `skipped`, so one bad line upstream does not discard a whole list.
 */
export interface ParsedDocument {
  readonly ranges: IntelRange[];
  /** The provider's own version marker (sync token, change number, date) or a content hash. */
  readonly version: string;
  readonly skipped: number;
}

function contentVersion(text: string): string {
  return 'sha256:' + createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function collect(entries: Iterable<[string, RangeLabel]>): { ranges: IntelRange[]; skipped: number } {
  const ranges: IntelRange[] = [];
  let skipped = 0;
  for (const [cidr, label] of entries) {
    const range = parseCidr(cidr, label);
    if (range === undefined) skipped++;
    else ranges.push(range);
  }
  return { ranges, skipped };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function label(category: RangeLabel['category'], name?: string, service?: string, region?: string): RangeLabel {
  return definedOnly({ category, name, service: nonEmpty(service), region: nonEmpty(region) });
}

const awsSchema = z.object({
  syncToken: z.string(),
  createDate: z.string(),
  prefixes: z.array(z.object({ ip_prefix: z.string(), region: z.string(), service: z.string() })),
  ipv6_prefixes: z.array(z.object({ ipv6_prefix: z.string(), region: z.string(), service: z.string() })),
});

/** https://ip-ranges.amazonaws.com/ip-ranges.json */
export function parseAwsIpRanges(text: string): ParsedDocument {
  const doc = awsSchema.parse(JSON.parse(text));
  const entries: Array<[string, RangeLabel]> = [
    ...doc.prefixes.map((p): [string, RangeLabel] => [p.ip_prefix, label('cloud', 'AWS', p.service, p.region)]),
    ...doc.ipv6_prefixes.map((p): [string, RangeLabel] => [p.ipv6_prefix, label('cloud', 'AWS', p.service, p.region)]),
  ];
  return { ...collect(entries), version: `${doc.syncToken} (${doc.createDate})` };
}

const googleSchema = z.object({
  syncToken: z.string(),
  creationTime: z.string(),
  prefixes: z.array(
    z.object({ ipv4Prefix: z.string().optional(), ipv6Prefix: z.string().optional(), scope: z.string().optional() }),
  ),
});

/** https://www.gstatic.com/ipranges/cloud.json — the service is always "Google Cloud"; the scope is the region. */
export function parseGoogleCloud(text: string): ParsedDocument {
  const doc = googleSchema.parse(JSON.parse(text));
  const entries = doc.prefixes.map((p): [string, RangeLabel] => [
    p.ipv4Prefix ?? p.ipv6Prefix ?? '',
    label('cloud', 'Google Cloud', undefined, p.scope),
  ]);
  return { ...collect(entries), version: `${doc.syncToken} (${doc.creationTime})` };
}

const azureSchema = z.object({
  changeNumber: z.number(),
  values: z.array(
    z.object({
      name: z.string(),
      properties: z.object({
        region: z.string().optional(),
        systemService: z.string().optional(),
        addressPrefixes: z.array(z.string()),
      }),
    }),
  ),
});

/**
 * Azure ServiceTags_Public JSON. Tags overlap heavily (AzureCloud ⊃ AzureCloud.region ⊃ Service.Region);
 * every tag's prefixes are returned and the snapshot builder aggregates them, the most specific tag winning.
 */
export function parseAzureServiceTags(text: string): ParsedDocument {
  const doc = azureSchema.parse(JSON.parse(text));
  const entries: Array<[string, RangeLabel]> = [];
  for (const tag of doc.values) {
    const tagLabel = label('cloud', 'Azure', tag.properties.systemService, tag.properties.region);
    for (const prefix of tag.properties.addressPrefixes) entries.push([prefix, tagLabel]);
  }
  return { ...collect(entries), version: `changeNumber ${doc.changeNumber}` };
}

/**
 * Microsoft publishes the weekly file under a dated name linked from a download page; refreshes fetch
 * the page and follow this link. Returns undefined when the page has none.
 */
export function azureServiceTagsLink(page: string): string | undefined {
  return /https?:\/\/[^"'\s<>]*ServiceTags_Public_\d+\.json/.exec(page)?.[0];
}

const oracleSchema = z.object({
  last_updated_timestamp: z.string(),
  regions: z.array(
    z.object({ region: z.string(), cidrs: z.array(z.object({ cidr: z.string(), tags: z.array(z.string()) })) }),
  ),
});

/** https://docs.oracle.com/iaas/tools/public_ip_ranges.json — tags (OCI, OSN, OBJECT_STORAGE) become the service. */
export function parseOracleCloud(text: string): ParsedDocument {
  const doc = oracleSchema.parse(JSON.parse(text));
  const entries = doc.regions.flatMap((region) =>
    region.cidrs.map((c): [string, RangeLabel] => [
      c.cidr,
      label('cloud', 'Oracle Cloud', c.tags.join('+'), region.region),
    ]),
  );
  return { ...collect(entries), version: doc.last_updated_timestamp };
}

/**
 * RFC 8805 self-published geofeed (`prefix,country,region,city,postal`), the format of DigitalOcean's
 * geo CSV and Linode's geofeed. The city (else region, else country) becomes the range's region.
 */
export function parseGeofeed(text: string, provider: string): ParsedDocument {
  const entries: Array<[string, RangeLabel]> = [];
  let modified: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      modified ??= /Last modified:\s*(.+)$/i.exec(trimmed)?.[1]?.trim();
      continue;
    }
    if (trimmed === '') continue;
    const [prefix = '', country, region, city] = trimmed.split(',').map((field) => field.trim());
    entries.push([prefix, label('cloud', provider, undefined, nonEmpty(city) ?? nonEmpty(region) ?? country)]);
  }
  return { ...collect(entries), version: modified ?? contentVersion(text) };
}

/** One CIDR (or bare address) a line, `#` comments: the X4B lists and the crawler range mirrors. */
export function parseCidrList(text: string, listLabel: RangeLabel): ParsedDocument {
  const entries: Array<[string, RangeLabel]> = [];
  for (const line of text.split(/\r?\n/)) {
    const content = line.replace(/#.*$/, '').trim();
    if (content !== '') entries.push([content, listLabel]);
  }
  return { ...collect(entries), version: contentVersion(text) };
}

/** Onionoo-derived exit relays, `fingerprint, ipaddr, port` with a header line. */
export function parseTorExitRelays(text: string): ParsedDocument {
  const entries: Array<[string, RangeLabel]> = [];
  const tor = label('tor');
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',').map((field) => field.trim());
    const address = fields[1];
    if (fields.length < 2 || address === undefined || address === '' || address === 'ipaddr') continue;
    entries.push([address.replace(/^\[|\]$/g, ''), tor]);
  }
  return { ...collect(entries), version: contentVersion(text) };
}

/** https://check.torproject.org/torbulkexitlist — one exit address a line. */
export function parseTorBulkExitList(text: string): ParsedDocument {
  return parseCidrList(text, label('tor'));
}
