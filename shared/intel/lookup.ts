import ipaddr from 'ipaddr.js';
import { definedOnly } from '../optional';
import {
  addressToBigInt,
  familyMax,
  formatIpv6,
  type IntelRange,
  parseDottedQuad,
  parseIpv6Hextets,
  type RangeLabel,
} from './ranges';
import {
  type ComboRecord,
  categoryBit,
  hostIsLittleEndian,
  SNAPSHOT_FORMAT,
  SNAPSHOT_MAGIC,
  type SnapshotHeader,
} from './snapshot';
import { SOURCE_IDS, type SourceId, sourceDef } from './sources';
import type { IpIntel, IpIntelCategory, IpIntelLookup } from './types';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What one combo contributes to an answer, prepared once at load so a lookup allocates only its answer. */
interface ComboAnswer {
  readonly category?: IpIntelCategory;
  readonly cloud?: IpIntel['cloud'];
  readonly crawler?: IpIntel['crawler'];
  readonly datacenter: boolean;
  readonly vpn: boolean;
  readonly tor: boolean;
}

const TOR = categoryBit('tor');
const CRAWLER = categoryBit('crawler');
const CLOUD = categoryBit('cloud');
const VPN = categoryBit('vpn');
const DATACENTER = categoryBit('datacenter');

/** ipaddr.js range names of addresses a real visitor can have; everything else is a bogon. */
const ROUTABLE_RANGES = new Set(['unicast', '6to4', 'teredo']);

type SpecialRanges = Record<string, [ipaddr.IPv4 | ipaddr.IPv6, number] | [ipaddr.IPv4 | ipaddr.IPv6, number][]>;

/**
 * ipaddr.js's `range()` as a table: its special ranges cut each family into segments whose addresses
 * all get the same name, so a lookup bisects a few dozen starts instead of matching CIDRs one by one.
 * Built from ipaddr.js's own list and names, so the answers stay exactly its answers.
 */
interface RangeTable {
  /** Segment starts as 32-bit words, most significant first (one word per IPv4 segment, four per IPv6). */
  readonly starts: Uint32Array;
  /** Range name of each segment; undefined where the name is routable. */
  readonly bogons: readonly (string | undefined)[];
}

function rangeTable(family: 4 | 6): RangeTable {
  const bits = family === 4 ? 32n : 128n;
  const Address = family === 4 ? ipaddr.IPv4 : ipaddr.IPv6;
  const special = (Address.prototype as unknown as { SpecialRanges: SpecialRanges }).SpecialRanges;
  // Each special subnet as [first, end), in ipaddr.js's order: the first holding an address names it, as its
  // `range()` does ('unicast' when none does); computed on the numbers, not by formatting and parsing addresses.
  const subnets: { name: string; first: bigint; end: bigint }[] = [];
  for (const [name, entry] of Object.entries(special)) {
    const list = Array.isArray(entry[0]) ? (entry as [ipaddr.IPv4 | ipaddr.IPv6, number][]) : [entry];
    for (const subnet of list) {
      const [address, prefix] = subnet as [ipaddr.IPv4 | ipaddr.IPv6, number];
      const first = addressToBigInt(address);
      subnets.push({ name, first, end: first + (1n << (bits - BigInt(prefix))) });
    }
  }
  const cuts = new Set<bigint>([0n]);
  for (const { first, end } of subnets) {
    cuts.add(first);
    if (end < 1n << bits) cuts.add(end);
  }
  const sorted = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const words = family === 4 ? 1 : 4;
  const starts = new Uint32Array(sorted.length * words);
  const bogons = sorted.map((start, index) => {
    for (let word = 0; word < words; word++) {
      starts[index * words + word] = Number((start >> BigInt(32 * (words - 1 - word))) & 0xffffffffn);
    }
    const name = subnets.find((subnet) => subnet.first <= start && start < subnet.end)?.name ?? 'unicast';
    return ROUTABLE_RANGES.has(name) ? undefined : name;
  });
  return { starts, bogons };
}

const V4_RANGES = rangeTable(4);
const V6_RANGES = rangeTable(6);

/** The bogon range name of an IPv4 address (as a uint32), or undefined when routable. */
function bogon4(value: number): string | undefined {
  return V4_RANGES.bogons[lastAtOrBefore(V4_RANGES.starts, value)];
}

/** Index of the last start at or before `value`. */
function lastAtOrBefore(starts: Uint32Array, value: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function bogon6(w0: number, w1: number, w2: number, w3: number): string | undefined {
  return V6_RANGES.bogons[lastAtOrBefore6(V6_RANGES.starts, w0, w1, w2, w3)];
}

/** Index of the last 128-bit start (four words each) at or before the address. */
function lastAtOrBefore6(starts: Uint32Array, w0: number, w1: number, w2: number, w3: number): number {
  let lo = 0;
  let hi = starts.length / 4 - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const at = mid * 4;
    const s0 = starts[at]!;
    const s1 = starts[at + 1]!;
    const s2 = starts[at + 2]!;
    const notAfter =
      s0 < w0 || (s0 === w0 && (s1 < w1 || (s1 === w1 && (s2 < w2 || (s2 === w2 && starts[at + 3]! <= w3)))));
    if (notAfter) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Scratch space for one IPv6 parse; lookups are synchronous, so one buffer serves them all. */
const hextets = new Uint16Array(8);

/**
 * Runs once per combo at load (a few thousand): plain assignments instead of spreads and one frozen
 * cloud label per distinct provider/service/region keep a cold start's snapshot load short.
 */
function comboAnswer(
  record: ComboRecord,
  strings: readonly string[],
  clouds: Map<string, IpIntel['cloud']>,
): ComboAnswer {
  const [flags, cloudName, service, region, crawlerName] = record;
  let cloud: IpIntel['cloud'];
  if (flags & CLOUD) {
    const key = `${cloudName},${service},${region}`;
    cloud = clouds.get(key);
    if (cloud === undefined) {
      const label: { provider: string; service?: string; region?: string } = {
        provider: textAt(strings, cloudName) ?? 'unknown',
      };
      const serviceText = textAt(strings, service);
      if (serviceText !== undefined) label.service = serviceText;
      const regionText = textAt(strings, region);
      if (regionText !== undefined) label.region = regionText;
      cloud = Object.freeze(label);
      clouds.set(key, cloud);
    }
  }
  const answer: Mutable<ComboAnswer> = {
    // The engine counts a named cloud once: the anonymous datacenter flag only adds what the cloud lists lack.
    datacenter: (flags & DATACENTER) !== 0 && cloud === undefined,
    vpn: (flags & VPN) !== 0,
    tor: (flags & TOR) !== 0,
  };
  const category: IpIntelCategory | undefined =
    flags & TOR
      ? 'tor'
      : flags & CRAWLER
        ? 'crawler'
        : flags & CLOUD
          ? 'cloud'
          : flags & VPN
            ? 'vpn'
            : flags & DATACENTER
              ? 'datacenter'
              : undefined;
  if (category !== undefined) answer.category = category;
  if (cloud !== undefined) answer.cloud = cloud;
  if (flags & CRAWLER) answer.crawler = Object.freeze({ name: textAt(strings, crawlerName) ?? 'unknown' });
  return answer;
}

const textAt = (strings: readonly string[], index: number): string | undefined =>
  index < 0 ? undefined : strings[index];

function readHeader(bytes: Uint8Array): { header: SnapshotHeader; dataOffset: number } {
  if (bytes.length < 12) throw new Error('intel snapshot truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new Error('not an intel snapshot');
  if (view.getUint32(4, true) !== SNAPSHOT_FORMAT) throw new Error('unsupported intel snapshot format');
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error('intel snapshot truncated');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as SnapshotHeader;
  return { header, dataOffset: (12 + headerLength + 7) & ~7 };
}

/** A loaded snapshot: typed-array views over the file's bytes, searched by binary search. */
export class IntelSnapshot implements IpIntelLookup {
  readonly version: string;
  readonly header: SnapshotHeader;
  private readonly v4Starts: Uint32Array;
  private readonly v4Combos: Uint16Array | Uint32Array;
  private readonly v6Starts: Uint32Array;
  private readonly v6Combos: Uint16Array | Uint32Array;
  private readonly answers: readonly ComboAnswer[];

  constructor(bytes: Uint8Array) {
    // Typed-array views need aligned offsets and host byte order; a misaligned buffer (e.g. an S3 body) is copied once.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const { header, dataOffset } = readHeader(aligned);
    this.header = header;
    this.version = header.version;
    const Combos: typeof Uint16Array | typeof Uint32Array = header.comboBytes === 2 ? Uint16Array : Uint32Array;
    let offset = aligned.byteOffset + dataOffset;
    const take = (Kind: typeof Uint16Array | typeof Uint32Array, length: number): Uint16Array | Uint32Array => {
      const byteLength = length * Kind.BYTES_PER_ELEMENT;
      if (offset + byteLength > aligned.byteOffset + aligned.byteLength) throw new Error('intel snapshot truncated');
      const view = new Kind(aligned.buffer as ArrayBuffer, offset, length);
      offset += (byteLength + 7) & ~7;
      return hostIsLittleEndian ? view : fromLittleEndian(view);
    };
    this.v4Starts = take(Uint32Array, header.v4) as Uint32Array;
    this.v4Combos = take(Combos, header.v4);
    this.v6Starts = take(Uint32Array, header.v6 * 4) as Uint32Array;
    this.v6Combos = take(Combos, header.v6);
    if (header.v4 === 0 || header.v6 === 0 || this.v4Starts[0] !== 0) throw new Error('intel snapshot malformed');
    const clouds = new Map<string, IpIntel['cloud']>();
    this.answers = header.combos.map((record) => comboAnswer(record, header.strings, clouds));
  }

  lookup(ip: string): IpIntel | undefined {
    if (typeof ip !== 'string') return undefined;
    const v4 = parseDottedQuad(ip);
    if (v4 >= 0) return this.answer4(ip, v4);
    if (!ip.includes(':')) return undefined;
    if (parseIpv6Hextets(ip, hextets)) return this.answer6(hextets, ip);
    // Zone ids, embedded dotted quads and malformed text: ipaddr.js decides.
    let address: ipaddr.IPv6;
    try {
      address = ipaddr.IPv6.parse(ip);
    } catch {
      return undefined;
    }
    for (let i = 0; i < 8; i++) hextets[i] = address.parts[i]!;
    const answer = this.answer6(hextets);
    // A zone id is part of ipaddr.js's text of the address.
    if (address.zoneId !== undefined && answer.version === 6) answer.ip = address.toString();
    return answer;
  }

  /** `text`: the address as given, reused as the answer's `ip` when it already is the canonical form. */
  private answer6(p: Uint16Array, text?: string): Mutable<IpIntel> {
    const w0 = ((p[0]! << 16) | p[1]!) >>> 0;
    const w1 = ((p[2]! << 16) | p[3]!) >>> 0;
    const w2 = ((p[4]! << 16) | p[5]!) >>> 0;
    const w3 = ((p[6]! << 16) | p[7]!) >>> 0;
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
      // IPv4-mapped (::ffff:0:0/96) is answered as the IPv4 address.
      return this.answer4(`${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`, w3);
    }
    const answer = this.answer(formatIpv6(p, text), 6, this.v6Combos[lastAtOrBefore6(this.v6Starts, w0, w1, w2, w3)]!);
    const range = bogon6(w0, w1, w2, w3);
    if (range !== undefined) answer.bogon = { range };
    // Only 2000::/3 is allocated for global unicast; ipaddr.js calls the rest "unicast" too.
    else if (w0 >>> 29 !== 1) answer.bogon = { range: 'reserved' };
    if (answer.bogon !== undefined) answer.category = 'bogon';
    return answer;
  }

  private answer4(ip: string, value: number): Mutable<IpIntel> {
    const answer = this.answer(ip, 4, this.v4Combos[lastAtOrBefore(this.v4Starts, value)]!);
    const range = bogon4(value);
    if (range !== undefined) {
      answer.bogon = { range };
      answer.category = 'bogon';
    }
    return answer;
  }

  private answer(ip: string, version: 4 | 6, combo: number): Mutable<IpIntel> {
    const found = this.answers[combo]!;
    const answer: Mutable<IpIntel> = { ip, version };
    if (found.category !== undefined) answer.category = found.category;
    if (found.cloud !== undefined) answer.cloud = found.cloud;
    if (found.datacenter) answer.datacenter = true;
    if (found.vpn) answer.vpn = true;
    if (found.tor) answer.tor = true;
    if (found.crawler !== undefined) answer.crawler = found.crawler;
    return answer;
  }

  /** Segments of the snapshot: total count per family, for benches and manifests. */
  get segments(): { v4: number; v6: number } {
    return { v4: this.header.v4, v6: this.header.v6 };
  }

  /**
   * The ranges one source contributed, recovered from the segments' source masks. Exact as to which
   * addresses; a cloud range keeps its service/region only where that source's label won the segment.
   */
  rangesOf(id: SourceId): IntelRange[] {
    const bit = this.header.sources.findIndex((source) => source.id === id);
    if (bit < 0 || !SOURCE_IDS.includes(id)) return [];
    const base = sourceDef(id).label;
    const ranges: IntelRange[] = [];
    for (const family of [4, 6] as const) {
      const count = family === 4 ? this.header.v4 : this.header.v6;
      for (let i = 0; i < count; i++) {
        const combo = (family === 4 ? this.v4Combos : this.v6Combos)[i]!;
        const record = this.header.combos[combo]!;
        if (((record[5] >>> bit) & 1) === 0) continue;
        const first = this.start(family, i);
        const last = i + 1 < count ? this.start(family, i + 1) - 1n : familyMax(family);
        const label = this.labelFor(base, record);
        const tail = ranges[ranges.length - 1];
        if (tail?.family === family && tail.last + 1n === first && sameLabel(tail.label, label)) {
          ranges[ranges.length - 1] = { ...tail, last };
        } else {
          ranges.push({ family, first, last, label });
        }
      }
    }
    return ranges;
  }

  private labelFor(base: RangeLabel, record: ComboRecord): RangeLabel {
    const text = (index: number) => (index < 0 ? undefined : this.header.strings[index]);
    if (base.category !== 'cloud' || text(record[1]) !== base.name) return base;
    return { ...base, ...definedOnly({ service: text(record[2]), region: text(record[3]) }) };
  }

  private start(family: 4 | 6, index: number): bigint {
    if (family === 4) return BigInt(this.v4Starts[index]!);
    let value = 0n;
    for (let word = 0; word < 4; word++) value = (value << 32n) | BigInt(this.v6Starts[index * 4 + word]!);
    return value;
  }
}

function sameLabel(a: RangeLabel, b: RangeLabel): boolean {
  return a.category === b.category && a.name === b.name && a.service === b.service && a.region === b.region;
}

function fromLittleEndian<T extends Uint16Array | Uint32Array>(view: T): T {
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const copy = new (view.constructor as { new (length: number): T })(view.length);
  for (let i = 0; i < view.length; i++) {
    copy[i] = view.BYTES_PER_ELEMENT === 2 ? data.getUint16(i * 2, true) : data.getUint32(i * 4, true);
  }
  return copy;
}

/** Loads snapshot bytes (from the bundle or S3). Throws on a file that is not a well-formed snapshot. */
export function loadIntelSnapshot(bytes: Uint8Array): IntelSnapshot {
  return new IntelSnapshot(bytes);
}
