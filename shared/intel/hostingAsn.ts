import { createHash } from 'node:crypto';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { ParsedDocument } from './parsers';
import { addressToBigInt, type IntelRange } from './ranges';
import reviewedList from './snapshot/hosting-asns.json';

/**
 * Hosting networks by autonomous system: a reviewed list of hosting / cloud / colocation ASNs
 * (data/ipintel/asn/hosting-asns.txt, one `AS<n> | organisation | reason` a line) applied to an
 * IP-range → ASN database (`@ip-location-db/asn`: RouteViews, the RIRs' delegated statistics and DB-IP's
 * ASN Lite, CC BY 4.0). `npm run intel:build` writes the selected ranges to
 * data/ipintel/asn/hosting-ranges.csv (`first,last,asn`, one range a line, the list's organisation names
 * in `#` header lines), and the snapshot labels them `cloud` with the name "<organisation> (AS<n>)".
 */
export interface HostingAsn {
  readonly asn: number;
  readonly org: string;
  readonly reason: string;
}

export function parseHostingAsnList(text: string): Map<number, HostingAsn> {
  const out = new Map<number, HostingAsn>();
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const content = line.trim();
    if (content === '' || content.startsWith('#')) continue;
    const [as = '', org = '', reason = ''] = content.split('|').map((field) => field.trim());
    const asn = /^AS(\d{1,10})$/.exec(as)?.[1];
    if (asn === undefined || org === '' || reason === '')
      throw new Error(`hosting-asns.txt line ${i + 1}: expected "AS<n> | organisation | reason"`);
    out.set(Number(asn), { asn: Number(asn), org, reason });
  }
  return out;
}

/**
 * The ranges of the listed ASNs in an `@ip-location-db/asn` CSV (`first,last,asn,org`, first and last
 * as addresses), adjacent ranges of one AS merged. Pure: the CSV text in, `first,last,asn` lines out.
 */
export function selectHostingRanges(csv: string, asns: ReadonlyMap<number, HostingAsn>): string[] {
  const out: string[] = [];
  let open: { first: string; last: string; lastValue: bigint; asn: number } | undefined;
  const close = () => {
    if (open !== undefined) out.push(`${open.first},${open.last},${open.asn}`);
    open = undefined;
  };
  for (const line of csv.split('\n')) {
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const c3 = line.indexOf(',', c2 + 1);
    if (c1 < 0 || c2 < 0) continue;
    const asn = Number(line.slice(c2 + 1, c3 < 0 ? undefined : c3));
    if (!asns.has(asn)) continue;
    const first = line.slice(0, c1);
    const last = line.slice(c1 + 1, c2);
    if (!ipaddr.isValid(first) || !ipaddr.isValid(last)) continue;
    const firstValue = addressToBigInt(ipaddr.parse(first));
    if (open !== undefined && open.asn === asn && firstValue === open.lastValue + 1n) {
      open.last = last;
      open.lastValue = addressToBigInt(ipaddr.parse(last));
      continue;
    }
    close();
    open = { first, last, lastValue: addressToBigInt(ipaddr.parse(last)), asn };
  }
  close();
  return out;
}

/**
 * The reviewed list as the scheduled refresh reads it: shared/intel/snapshot/hosting-asns.json, written by
 * `npm run intel:build` from data/ipintel/asn/hosting-asns.txt and bundled with the function, so the list
 * changes only with a release (by review) while its ranges follow the daily upstream database.
 */
export const REVIEWED_HOSTING_ASNS_FILE = path.join(__dirname, 'snapshot', 'hosting-asns.json');

export function reviewedHostingAsns(list: readonly HostingAsn[] = reviewedList): Map<number, HostingAsn> {
  return new Map(list.map((entry) => [entry.asn, entry]));
}

/**
 * One upstream `@ip-location-db/asn` CSV (https://cdn.jsdelivr.net/npm/@ip-location-db/asn/asn-ipv4.csv and
 * asn-ipv6.csv, updated daily) with the reviewed ASNs applied: exactly what `npm run intel:build` ships.
 */
export function parseAsnDatabase(csv: string, asns: ReadonlyMap<number, HostingAsn>): ParsedDocument {
  const headers = [...asns.values()].map((entry) => `# AS${entry.asn} ${entry.org}`);
  const parsed = parseHostingRanges([...headers, ...selectHostingRanges(csv, asns)].join('\n'));
  return { ...parsed, version: `sha256:${createHash('sha256').update(csv).digest('hex').slice(0, 12)}` };
}

/** data/ipintel/asn/hosting-ranges.csv: `# AS<n> <organisation>` headers, then `first,last,asn` lines. */
export function parseHostingRanges(text: string): ParsedDocument {
  const names = new Map<number, string>();
  const ranges: IntelRange[] = [];
  let skipped = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('# AS')) {
      const space = line.indexOf(' ', 4);
      if (space > 0) names.set(Number(line.slice(4, space)), line.slice(space + 1).trim());
      continue;
    }
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [first = '', last = '', as = ''] = line.split(',');
    const asn = Number(as);
    const org = names.get(asn);
    if (org === undefined || !ipaddr.isValid(first) || !ipaddr.isValid(last)) {
      skipped++;
      continue;
    }
    const a = ipaddr.parse(first);
    const b = ipaddr.parse(last);
    if (a.kind() !== b.kind()) {
      skipped++;
      continue;
    }
    ranges.push({
      family: a.kind() === 'ipv4' ? 4 : 6,
      first: addressToBigInt(a),
      last: addressToBigInt(b),
      label: { category: 'cloud', name: `${org} (AS${asn})` },
    });
  }
  return { ranges, skipped, version: `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}` };
}
