import ipaddr from 'ipaddr.js';

/** What a listed range says about its addresses. Order is precedence: tor > crawler > cloud > vpn > datacenter. */
export const INTEL_CATEGORIES = ['tor', 'crawler', 'cloud', 'vpn', 'datacenter'] as const;
type IntelCategory = (typeof INTEL_CATEGORIES)[number];

export interface RangeLabel {
  readonly category: IntelCategory;
  /** Cloud provider or crawler name; absent for the anonymous tor / vpn / datacenter lists. */
  readonly name?: string;
  readonly service?: string;
  readonly region?: string;
}

/** An inclusive address interval of one family, as unsigned integers (IPv6 as 128-bit bigint). */
export interface IntelRange {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly label: RangeLabel;
}

const MAX_V4 = (1n << 32n) - 1n;
const MAX_V6 = (1n << 128n) - 1n;

export function familyMax(family: 4 | 6): bigint {
  return family === 4 ? MAX_V4 : MAX_V6;
}

export function addressToBigInt(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let value = 0n;
  if (address.kind() === 'ipv4') {
    for (const octet of (address as ipaddr.IPv4).octets) value = (value << 8n) | BigInt(octet);
  } else {
    for (const part of (address as ipaddr.IPv6).parts) value = (value << 16n) | BigInt(part);
  }
  return value;
}

export function bigIntToAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((shift) => Number((value >> shift) & 0xffn));
    return octets.join('.');
  }
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toString();
}

/** Strict dotted quad (no leading zeros, no short forms) to a uint32, or −1. */
export function parseDottedQuad(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * The eight hextets of a plain IPv6 address (hex groups, at most one `::`) into `out`. False for
 * anything else, valid or not (zone ids, embedded dotted quads): callers fall back to ipaddr.js,
 * so this only has to agree with it on what it accepts.
 */
export function parseIpv6Hextets(text: string, out: Uint16Array): boolean {
  const length = text.length;
  if (length < 2 || length > 39) return false;
  let groups = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === 58) {
      if (digits === 0 || groups === 8) return false;
      out[groups++] = value;
      value = 0;
      digits = 0;
      if (text.charCodeAt(i + 1) === 58) {
        if (gap >= 0) return false;
        gap = groups;
        i++;
      } else if (i + 1 === length) return false;
      continue;
    }
    let nibble: number;
    if (code >= 48 && code <= 57) nibble = code - 48;
    else if (code >= 97 && code <= 102) nibble = code - 87;
    else if (code >= 65 && code <= 70) nibble = code - 55;
    else return false;
    if (++digits > 4) return false;
    value = (value << 4) | nibble;
  }
  if (digits > 0) {
    if (groups === 8) return false;
    out[groups++] = value;
  }
  if (gap < 0) return groups === 8;
  if (groups === 8) return false;
  const tail = groups - gap;
  for (let k = tail - 1; k >= 0; k--) out[8 - tail + k] = out[gap + k] as number;
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/**
 * RFC 5952 text of eight hextets, as ipaddr.js's `toString()` writes it: lower case, no leading zeros,
 * the longest (first) run of ≥ 2 zero groups as `::`. `text` is returned itself when it already is that
 * form, which most addresses on the wire are, so the common lookup builds no string.
 */
export function formatIpv6(hextets: Uint16Array, text?: string): string {
  const run = longestZeroRun(hextets);
  const runStart = run >> 4;
  const runLength = run & 15;
  if (text !== undefined && isFormatted(text, hextets, runStart, runLength)) return text;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === runStart) {
      out += i === 0 ? '::' : ':';
      i += runLength - 1;
      continue;
    }
    out += (hextets[i] as number).toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/** Start × 16 + length of the first longest run of ≥ 2 zero hextets; start 15 (none) when there is none. */
function longestZeroRun(hextets: Uint16Array): number {
  let bestStart = 15;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < 8 && hextets[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  return bestStart * 16 + bestLength;
}

/** Whether `text` is exactly what formatIpv6 would write, compared character by character. */
function isFormatted(text: string, hextets: Uint16Array, runStart: number, runLength: number): boolean {
  let at = 0;
  for (let i = 0; i < 8; i++) {
    if (i === runStart) {
      if (i === 0 && text.charCodeAt(at++) !== 58) return false;
      if (text.charCodeAt(at++) !== 58) return false;
      i += runLength - 1;
      continue;
    }
    const value = hextets[i] as number;
    for (let shift = value < 0x10 ? 0 : value < 0x100 ? 4 : value < 0x1000 ? 8 : 12; shift >= 0; shift -= 4) {
      const nibble = (value >> shift) & 15;
      if (text.charCodeAt(at++) !== (nibble < 10 ? 48 + nibble : 87 + nibble)) return false;
    }
    if (i < 7 && text.charCodeAt(at++) !== 58) return false;
  }
  return at === text.length;
}

/**
 * Parses `a.b.c.d/n`, `v6::/n`, or a bare address (a /32 or /128). Host bits set below the prefix are
 * tolerated (some feeds publish them) and cleared. Returns undefined for anything else.
 */
export function parseCidr(text: string, label: RangeLabel): IntelRange | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const slash = trimmed.indexOf('/');
  const v4 = parseDottedQuad(slash < 0 ? trimmed : trimmed.slice(0, slash));
  if (v4 >= 0) {
    // The common case, parsed without ipaddr.js: these lists hold a few hundred thousand IPv4 prefixes.
    const bits = slash < 0 ? 32 : Number(trimmed.slice(slash + 1));
    if (!/^\d{1,2}$/.test(slash < 0 ? '32' : trimmed.slice(slash + 1)) || bits > 32) return undefined;
    const hostBits = BigInt(32 - bits);
    const first = (BigInt(v4) >> hostBits) << hostBits;
    return { family: 4, first, last: first + (1n << hostBits) - 1n, label };
  }
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  let bits: number;
  try {
    if (trimmed.includes('/')) {
      [address, bits] = ipaddr.parseCIDR(trimmed);
    } else {
      address = ipaddr.parse(trimmed);
      bits = address.kind() === 'ipv4' ? 32 : 128;
    }
  } catch {
    return undefined;
  }
  // IPv4 in anything but a strict dotted quad (octal, hex, short forms) is not what a feed means.
  if (address.kind() === 'ipv4') return undefined;
  const family = address.kind() === 'ipv4' ? 4 : 6;
  const width = family === 4 ? 32n : 128n;
  const hostBits = width - BigInt(bits);
  const first = (addressToBigInt(address) >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n, label };
}

/** Sorts and unions intervals of one family, ignoring labels. */
export function mergeIntervals(ranges: readonly IntelRange[]): Array<{ first: bigint; last: bigint }> {
  const sorted = [...ranges].sort((a, b) => compareBigInt(a.first, b.first) || compareBigInt(a.last, b.last));
  const merged: Array<{ first: bigint; last: bigint }> = [];
  for (const range of sorted) {
    const tail = merged[merged.length - 1];
    if (tail !== undefined && range.first <= tail.last + 1n) {
      if (range.last > tail.last) tail.last = range.last;
    } else {
      merged.push({ first: range.first, last: range.last });
    }
  }
  return merged;
}

/** Number of disjoint intervals a list covers once overlaps and adjacency are merged, per family. */
export function coverage(ranges: readonly IntelRange[]): { v4: number; v6: number } {
  return {
    v4: mergeIntervals(ranges.filter((range) => range.family === 4)).length,
    v6: mergeIntervals(ranges.filter((range) => range.family === 6)).length,
  };
}

export function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
