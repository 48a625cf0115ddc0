import { type HostingAsn, parseAsnDatabase, parseHostingRanges } from './hostingAsn';
import {
  azureServiceTagsLink,
  type ParsedDocument,
  parseAwsIpRanges,
  parseAzureServiceTags,
  parseCidrList,
  parseGeofeed,
  parseGoogleCloud,
  parseOracleCloud,
  parseTorBulkExitList,
  parseTorExitRelays,
} from './parsers';
import type { RangeLabel } from './ranges';

/**
 * The lists the snapshot is built from: where the shipped copy lives under data/ipintel/, where the
 * scheduled refresh fetches it (data/ipintel/PROVENANCE.md), and which parser reads each format.
 */
export const SOURCE_IDS = [
  'aws',
  'google-cloud',
  'azure',
  'oracle',
  'digitalocean',
  'linode',
  'x4b-datacenter',
  'x4b-vpn',
  'tor',
  'googlebot',
  'bingbot',
  'duckduckbot',
  'openai',
  'perplexity',
  'hosting-asn',
] as const;
export type SourceId = (typeof SOURCE_IDS)[number];

type DocumentFormat =
  | 'aws-ip-ranges'
  | 'google-cloud'
  | 'azure-service-tags'
  /** The Azure download page: the refresh follows its link to the dated ServiceTags_Public file. */
  | 'azure-download-page'
  | 'oracle-cloud'
  | 'geofeed'
  | 'cidr-list'
  | 'tor-exit-relays'
  | 'tor-bulk-exit-list'
  /** data/ipintel/asn/hosting-ranges.csv, written by `npm run intel:build` (shared/intel/hostingAsn.ts). */
  | 'hosting-asn-ranges'
  /** The upstream `@ip-location-db/asn` CSV (`first,last,asn,org`), filtered by the reviewed hosting ASNs. */
  | 'ip-location-db-asn';

export interface SourceDocument {
  readonly format: DocumentFormat;
  /** Path under data/ipintel/ (shipped copy) or an absolute URL (upstream). */
  readonly location: string;
}

export interface SourceDef {
  readonly id: SourceId;
  /** Provider or crawler name for named lists; the label every range of a line-based list gets. */
  readonly label: RangeLabel;
  readonly shipped: readonly SourceDocument[];
  readonly upstream: readonly SourceDocument[];
}

const lordAlfred = 'https://raw.githubusercontent.com/lord-alfred/ipranges/main';
const x4b = 'https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output';
const ipLocationDb = 'https://cdn.jsdelivr.net/npm/@ip-location-db/asn';

function crawler(id: SourceId, name: string, file: string, upstreamDir: string, ipv6 = false): SourceDef {
  return {
    id,
    label: { category: 'crawler', name },
    shipped: [{ format: 'cidr-list', location: `crawlers/${file}` }],
    upstream: [
      { format: 'cidr-list', location: `${lordAlfred}/${upstreamDir}/ipv4.txt` },
      ...(ipv6 ? [{ format: 'cidr-list' as const, location: `${lordAlfred}/${upstreamDir}/ipv6.txt` }] : []),
    ],
  };
}

export const SOURCES: readonly SourceDef[] = [
  {
    id: 'aws',
    label: { category: 'cloud', name: 'AWS' },
    shipped: [{ format: 'aws-ip-ranges', location: 'cloud/aws-ip-ranges.json' }],
    upstream: [{ format: 'aws-ip-ranges', location: 'https://ip-ranges.amazonaws.com/ip-ranges.json' }],
  },
  {
    id: 'google-cloud',
    label: { category: 'cloud', name: 'Google Cloud' },
    shipped: [{ format: 'google-cloud', location: 'cloud/google-cloud-ip-ranges.json' }],
    upstream: [{ format: 'google-cloud', location: 'https://www.gstatic.com/ipranges/cloud.json' }],
  },
  {
    id: 'azure',
    label: { category: 'cloud', name: 'Azure' },
    shipped: [{ format: 'azure-service-tags', location: 'cloud/microsoft-azure-ip-ranges.json' }],
    upstream: [
      { format: 'azure-download-page', location: 'https://www.microsoft.com/en-us/download/details.aspx?id=56519' },
    ],
  },
  {
    id: 'oracle',
    label: { category: 'cloud', name: 'Oracle Cloud' },
    shipped: [{ format: 'oracle-cloud', location: 'cloud/oracle-cloud-ip-ranges.json' }],
    upstream: [{ format: 'oracle-cloud', location: 'https://docs.oracle.com/iaas/tools/public_ip_ranges.json' }],
  },
  {
    id: 'digitalocean',
    label: { category: 'cloud', name: 'DigitalOcean' },
    shipped: [{ format: 'geofeed', location: 'cloud/digitalocean.csv' }],
    upstream: [{ format: 'geofeed', location: 'https://digitalocean.com/geo/google.csv' }],
  },
  {
    id: 'linode',
    label: { category: 'cloud', name: 'Linode' },
    shipped: [{ format: 'geofeed', location: 'cloud/linode.txt' }],
    upstream: [{ format: 'geofeed', location: 'https://geoip.linode.com/' }],
  },
  {
    id: 'x4b-datacenter',
    label: { category: 'datacenter' },
    shipped: [
      { format: 'cidr-list', location: 'x4bnet/datacenter-ipv4.txt' },
      { format: 'cidr-list', location: 'x4bnet/datacenter-ipv6.txt' },
    ],
    upstream: [
      { format: 'cidr-list', location: `${x4b}/datacenter/ipv4.txt` },
      { format: 'cidr-list', location: `${x4b}/datacenter/ipv6.txt` },
    ],
  },
  {
    id: 'x4b-vpn',
    label: { category: 'vpn' },
    shipped: [
      { format: 'cidr-list', location: 'x4bnet/vpn-ipv4.txt' },
      { format: 'cidr-list', location: 'x4bnet/vpn-ipv6.txt' },
    ],
    upstream: [
      { format: 'cidr-list', location: `${x4b}/vpn/ipv4.txt` },
      { format: 'cidr-list', location: `${x4b}/vpn/ipv6.txt` },
    ],
  },
  {
    id: 'tor',
    label: { category: 'tor' },
    shipped: [{ format: 'tor-exit-relays', location: 'tor/exit-relays.csv' }],
    // The relay list has IPv6 exits; the bulk list is the canonical set of addresses exits really use.
    upstream: [
      {
        format: 'tor-exit-relays',
        location: 'https://raw.githubusercontent.com/alireza-rezaee/tor-nodes/main/latest.exits.csv',
      },
      { format: 'tor-bulk-exit-list', location: 'https://check.torproject.org/torbulkexitlist' },
    ],
  },
  crawler('googlebot', 'Googlebot', 'googlebot-ipv4.txt', 'googlebot', true),
  crawler('bingbot', 'Bingbot', 'bing-ipv4.txt', 'bing'),
  crawler('duckduckbot', 'DuckDuckBot', 'duckduckbot-ipv4.txt', 'duckduckbot'),
  crawler('openai', 'OpenAI', 'openai-ipv4.txt', 'openai'),
  crawler('perplexity', 'PerplexityBot', 'perplexity-ipv4.txt', 'perplexity'),
  {
    // Reviewed hosting ASNs applied to the ASN database: at build time for the shipped ranges, and by the
    // scheduled refresh to the daily upstream database (the reviewed list itself changes only with a release).
    id: 'hosting-asn',
    label: { category: 'cloud' },
    shipped: [{ format: 'hosting-asn-ranges', location: 'asn/hosting-ranges.csv' }],
    upstream: [
      { format: 'ip-location-db-asn', location: `${ipLocationDb}/asn-ipv4.csv` },
      { format: 'ip-location-db-asn', location: `${ipLocationDb}/asn-ipv6.csv` },
    ],
  },
];

export function sourceDef(id: SourceId): SourceDef {
  const def = SOURCES.find((source) => source.id === id);
  if (def === undefined) throw new Error(`unknown intel source ${id}`);
  return def;
}

/**
 * Parses one document of a source. `azure-download-page` is not parseable on its own (see the refresh);
 * `ip-location-db-asn` needs the reviewed hosting ASNs (`reviewed`, see reviewedAsnsOf).
 */
export function parseDocument(
  source: SourceDef,
  format: DocumentFormat,
  text: string,
  reviewed?: ReadonlyMap<number, HostingAsn>,
): ParsedDocument {
  switch (format) {
    case 'aws-ip-ranges':
      return parseAwsIpRanges(text);
    case 'google-cloud':
      return parseGoogleCloud(text);
    case 'azure-service-tags':
      return parseAzureServiceTags(text);
    case 'azure-download-page': {
      // A page that already is the JSON (a mirror, or a test server) is accepted as is.
      if (text.trimStart().startsWith('{')) return parseAzureServiceTags(text);
      throw new Error(`azure download page needs its link followed (${azureServiceTagsLink(text) ?? 'no link'})`);
    }
    case 'oracle-cloud':
      return parseOracleCloud(text);
    case 'geofeed':
      return parseGeofeed(text, source.label.name ?? source.id);
    case 'cidr-list':
      return parseCidrList(text, source.label);
    case 'tor-exit-relays':
      return parseTorExitRelays(text);
    case 'tor-bulk-exit-list':
      return parseTorBulkExitList(text);
    case 'hosting-asn-ranges':
      return parseHostingRanges(text);
    case 'ip-location-db-asn':
      if (reviewed === undefined || reviewed.size === 0) throw new Error('no reviewed hosting ASNs to apply');
      return parseAsnDatabase(text, reviewed);
  }
}
