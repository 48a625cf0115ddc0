import { createHash } from 'node:crypto';
import { compareBigInt, familyMax, INTEL_CATEGORIES, type IntelRange, mergeIntervals, type RangeLabel } from './ranges';
import type { SourceId } from './sources';

/**
 * The snapshot file: every list merged into sorted, non-overlapping segments per family, each pointing at
 * a "combo" (which categories apply, the winning cloud label, the crawler name, which sources listed it).
 *
 *   'CSIV' | u32 format | u32 header length | header JSON | pad 8
 *   v4 starts u32[n4] | pad 8 | v4 combos u16/u32[n4] | pad 8
 *   v6 starts u32[4·n6] (most significant word first) | pad 8 | v6 combos u16/u32[n6] | pad 8
 *
 * Numbers are little-endian. Segment i covers [start i, start i+1 − 1]; the first starts at 0, combo 0 is
 * "nothing listed", so a lookup is one binary search. The bytes depend only on the input lists.
 */
export const SNAPSHOT_MAGIC = 0x56495343; // 'CSIV' read as little-endian u32
export const SNAPSHOT_FORMAT = 1;

/** [category flags, cloud name, cloud service, cloud region, crawler name, source mask]; names index `strings`, −1 = none. */
export type ComboRecord = [number, number, number, number, number, number];

export interface SnapshotHeader {
  readonly version: string;
  readonly sources: ReadonlyArray<{ readonly id: SourceId; readonly version: string }>;
  readonly strings: readonly string[];
  readonly combos: readonly ComboRecord[];
  readonly v4: number;
  readonly v6: number;
  readonly comboBytes: 2 | 4;
}

export interface SourceRanges {
  readonly id: SourceId;
  readonly version: string;
  readonly ranges: readonly IntelRange[];
}

interface SnapshotManifest {
  readonly version: string;
  readonly format: number;
  readonly bytes: number;
  readonly segments: { readonly v4: number; readonly v6: number };
  readonly combos: number;
  readonly sources: ReadonlyArray<{
    readonly id: SourceId;
    readonly version: string;
    readonly ranges: number;
    readonly intervals: { readonly v4: number; readonly v6: number };
  }>;
}

export const categoryBit = (category: RangeLabel['category']): number => 1 << INTEL_CATEGORIES.indexOf(category);

interface Item {
  readonly first: bigint;
  readonly last: bigint;
  readonly size: bigint;
  readonly label: RangeLabel;
  readonly labelKey: string;
  /** Addresses the whole label covers: among equal-sized candidates the narrower label is the more specific. */
  readonly labelTotal: bigint;
  readonly sourceBit: number;
  /** False for ranges derived from ASN data (hosting-asn): any provider's published range names an address better. */
  readonly published: boolean;
}

const labelKey = (label: RangeLabel): string =>
  [label.category, label.name ?? '', label.service ?? '', label.region ?? ''].join('\u0000');

/** Narrowest first, then the label covering less overall (EC2 before AMAZON), then by name for determinism. */
function moreSpecific(a: Item, b: Item): boolean {
  if (a.published !== b.published) return a.published;
  if (a.size !== b.size) return a.size < b.size;
  if (a.labelTotal !== b.labelTotal) return a.labelTotal < b.labelTotal;
  return a.labelKey < b.labelKey;
}

function itemsOf(sources: readonly SourceRanges[], family: 4 | 6): Item[] {
  const items: Item[] = [];
  sources.forEach((source, index) => {
    const byLabel = new Map<string, { label: RangeLabel; ranges: IntelRange[] }>();
    for (const range of source.ranges) {
      if (range.family !== family) continue;
      const key = labelKey(range.label);
      const group = byLabel.get(key) ?? { label: range.label, ranges: [] };
      group.ranges.push(range);
      byLabel.set(key, group);
    }
    for (const [key, group] of byLabel) {
      const merged = mergeIntervals(group.ranges);
      const total = merged.reduce((sum, interval) => sum + interval.last - interval.first + 1n, 0n);
      for (const interval of merged) {
        items.push({
          ...interval,
          size: interval.last - interval.first,
          label: group.label,
          labelKey: key,
          labelTotal: total,
          sourceBit: 1 << index,
          published: source.id !== 'hosting-asn',
        });
      }
    }
  });
  return items.sort(
    (a, b) =>
      compareBigInt(a.first, b.first) ||
      compareBigInt(a.last, b.last) ||
      a.sourceBit - b.sourceBit ||
      (a.labelKey < b.labelKey ? -1 : a.labelKey > b.labelKey ? 1 : 0),
  );
}

class ComboTable {
  readonly strings: string[] = [];
  readonly combos: ComboRecord[] = [[0, -1, -1, -1, -1, 0]];
  private readonly stringIndex = new Map<string, number>();
  private readonly comboIndex = new Map<string, number>([['0,-1,-1,-1,-1,0', 0]]);

  private string(value: string | undefined): number {
    if (value === undefined) return -1;
    let index = this.stringIndex.get(value);
    if (index === undefined) {
      index = this.strings.push(value) - 1;
      this.stringIndex.set(value, index);
    }
    return index;
  }

  of(active: readonly Item[]): number {
    let flags = 0;
    let sourceMask = 0;
    let cloud: Item | undefined;
    let crawler: Item | undefined;
    for (const item of active) {
      flags |= categoryBit(item.label.category);
      sourceMask |= item.sourceBit;
      if (item.label.category === 'cloud' && (cloud === undefined || moreSpecific(item, cloud))) cloud = item;
      if (item.label.category === 'crawler' && (crawler === undefined || moreSpecific(item, crawler))) crawler = item;
    }
    const record: ComboRecord = [
      flags,
      this.string(cloud?.label.name),
      this.string(cloud?.label.service),
      this.string(cloud?.label.region),
      this.string(crawler?.label.name),
      sourceMask >>> 0,
    ];
    const key = record.join(',');
    let index = this.comboIndex.get(key);
    if (index === undefined) {
      index = this.combos.push(record) - 1;
      this.comboIndex.set(key, index);
    }
    return index;
  }
}

/** Sweeps the boundaries of every interval; each elementary segment gets the combo of the intervals over it. */
function segmentsOf(items: readonly Item[], family: 4 | 6, table: ComboTable): { starts: bigint[]; combos: number[] } {
  const max = familyMax(family);
  // Sorted and deduplicated by hand: V8 hashes a BigInt by its low bits, so a Set of IPv6 prefixes is quadratic.
  const candidates: bigint[] = [0n];
  for (const item of items) {
    candidates.push(item.first);
    if (item.last < max) candidates.push(item.last + 1n);
  }
  candidates.sort(compareBigInt);
  const boundaries = candidates.filter((value, i) => i === 0 || value !== candidates[i - 1]);
  const starts: bigint[] = [];
  const combos: number[] = [];
  let active: Item[] = [];
  let next = 0;
  for (const boundary of boundaries) {
    active = active.filter((item) => item.last >= boundary);
    while (next < items.length && items[next]!.first <= boundary) active.push(items[next++]!);
    const combo = table.of(active);
    if (combos.length === 0 || combos[combos.length - 1] !== combo) {
      starts.push(boundary);
      combos.push(combo);
    }
  }
  return { starts, combos };
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Builds the snapshot bytes and its manifest. Sources beyond 32 do not fit the source mask. */
export function buildIntelSnapshot(sources: readonly SourceRanges[]): {
  bytes: Uint8Array;
  manifest: SnapshotManifest;
} {
  if (sources.length > 32) throw new Error('at most 32 intel sources fit a snapshot');
  const table = new ComboTable();
  const v4 = segmentsOf(itemsOf(sources, 4), 4, table);
  const v6 = segmentsOf(itemsOf(sources, 6), 6, table);
  const comboBytes: 2 | 4 = table.combos.length <= 0xffff ? 2 : 4;

  const v4Starts = Uint32Array.from(v4.starts, Number);
  const v6Starts = new Uint32Array(v6.starts.length * 4);
  v6.starts.forEach((start, i) => {
    for (let word = 0; word < 4; word++)
      v6Starts[i * 4 + word] = Number((start >> BigInt(96 - 32 * word)) & 0xffffffffn);
  });
  const comboArray = (values: number[]) => (comboBytes === 2 ? Uint16Array.from(values) : Uint32Array.from(values));
  const sections = [v4Starts, comboArray(v4.combos), v6Starts, comboArray(v6.combos)].map(
    (view) => new Uint8Array(littleEndian(view)),
  );

  const headerBase = {
    sources: sources.map((source) => ({ id: source.id, version: source.version })),
    strings: table.strings,
    combos: table.combos,
    v4: v4.starts.length,
    v6: v6.starts.length,
    comboBytes,
  };
  const hash = createHash('sha256').update(JSON.stringify(headerBase));
  for (const section of sections) hash.update(section);
  const version = hash.digest('hex').slice(0, 16);
  const headerBytes = new TextEncoder().encode(JSON.stringify({ version, ...headerBase } satisfies SnapshotHeader));

  let size = align8(12 + headerBytes.length);
  for (const section of sections) size += align8(section.length);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, SNAPSHOT_FORMAT, true);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, 12);
  let offset = align8(12 + headerBytes.length);
  for (const section of sections) {
    bytes.set(section, offset);
    offset += align8(section.length);
  }

  const manifest: SnapshotManifest = {
    version,
    format: SNAPSHOT_FORMAT,
    bytes: bytes.length,
    segments: { v4: v4.starts.length, v6: v6.starts.length },
    combos: table.combos.length,
    sources: sources.map((source) => ({
      id: source.id,
      version: source.version,
      ranges: source.ranges.length,
      intervals: {
        v4: mergeIntervals(source.ranges.filter((r) => r.family === 4)).length,
        v6: mergeIntervals(source.ranges.filter((r) => r.family === 6)).length,
      },
    })),
  };
  return { bytes, manifest };
}

export const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The typed array's bytes in little-endian order (a copy on big-endian hosts). */
function littleEndian(view: Uint16Array | Uint32Array): ArrayBuffer {
  const buffer = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
  if (hostIsLittleEndian) return buffer;
  const data = new DataView(buffer);
  const width = view.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i++) {
    if (width === 2) data.setUint16(i * 2, view[i]!, true);
    else data.setUint32(i * 4, view[i]!, true);
  }
  return buffer;
}
