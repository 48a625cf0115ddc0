import {
  CAMPAIGN_SLOTS,
  type CounterSpec,
  type CounterValues,
  counterValuesFrom,
  type VelocityStore,
} from '../../scoring/velocity';

/** One counter item; the backtest keeps references to read a window's final total later. */
export interface CounterCell {
  count: number;
  members: Set<string> | undefined;
  expiresAt: number;
}

// A module binding rather than `Math.imul` in the hash loops: see ../../fnv1a.ts (jest's vm context).
const imul = Math.imul;

export const cellValue = (cell: CounterCell): number => cell.members?.size ?? cell.count;

/** Two FNV-1a passes with different multipliers: a 64-bit hash as two 32-bit halves. */
function hashPair(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = imul(a ^ c, 0x01000193);
    b = imul(b ^ c, 0x5bd1e995);
  }
  return [a >>> 0, b >>> 0];
}

/**
 * Long window keys are kept as their 64-bit hash: ~14 characters instead of ~60, collisions negligible
 * (the live windows of a backtest number a few hundred thousand).
 */
function compactKey(key: string): string {
  if (key.length <= 40) return key;
  const [a, b] = hashPair(key);
  return `#${a.toString(36)}${b.toString(36)}`;
}

/** murmur3's finaliser: spreads the hash's bits over the table index. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Unbucketed plain counters — a gclid (live for the retention from its first click), a click token's uses and an
 * actor's lifetime clicks (live ACTOR_TTL_SECONDS) — number a few per click in a long backtest: a Map entry,
 * key string and cell object each would be ~200 bytes a click. Here each is a 64-bit key hash, a count, an
 * actor's conversions and an expiry in typed arrays (20 bytes a slot, open addressing, linear probing). Expired slots count as absent on read, exactly as the DynamoDB
 * store, and are dropped whenever the table is rebuilt: it is rebuilt when half full, to the power of two
 * at least three times the live entries, so it holds at most 6 slots (120 bytes) per live counter and each
 * insert costs O(1) amortised.
 */
class LongLivedCounters {
  private hi = new Uint32Array(0);
  private lo = new Uint32Array(0);
  private counts = new Uint32Array(0);
  /** An actor's trusted conversions (`conv`), beside its clicks. */
  private conversions = new Uint32Array(0);
  /** Epoch seconds; 0 marks an empty slot. */
  private expires = new Uint32Array(0);
  private used = 0;

  constructor(private readonly minCapacity: number) {
    this.allocate(minCapacity);
  }

  /** Slots occupied (live or expired but not yet dropped). */
  get size(): number {
    return this.used;
  }

  /**
   * Adds one use of `key` at `nowSec` and returns its count; the counter then lives until `expiresAt` — or, `fromFirst`,
   * until the expiry its first count set, while that has not passed.
   */
  increment(key: string, expiresAt: number, nowSec: number, fromFirst = false): number {
    const [a, b] = hashPair(key);
    let slot = this.find(a, b);
    const live = (this.expires[slot] as number) > nowSec;
    if (this.expires[slot] === 0) {
      if (2 * (this.used + 1) > this.expires.length) {
        this.rebuild(nowSec);
        slot = this.find(a, b);
      }
      this.hi[slot] = a;
      this.lo[slot] = b;
      this.used++;
    } else if ((this.expires[slot] as number) <= nowSec) {
      this.counts[slot] = 0;
      this.conversions[slot] = 0;
    }
    const count = (this.counts[slot] as number) + 1;
    this.counts[slot] = count;
    // Never 0 (the empty mark): an expiry at the epoch is already past anyway.
    if (!(fromFirst && live)) this.expires[slot] = Math.max(1, expiresAt);
    return count;
  }

  /** The key's conversions (0 when absent or expired). */
  conversionsOf(key: string, nowSec: number): number {
    const [a, b] = hashPair(key);
    const slot = this.find(a, b);
    return (this.expires[slot] as number) > nowSec ? (this.conversions[slot] as number) : 0;
  }

  /** One more conversion on a live key; an absent or expired key stays absent (as DynamoDB's condition). */
  addConversion(key: string, nowSec: number): void {
    const [a, b] = hashPair(key);
    const slot = this.find(a, b);
    if ((this.expires[slot] as number) > nowSec) this.conversions[slot] = (this.conversions[slot] as number) + 1;
  }

  /** The key's slot, or the empty slot where it would go. */
  private find(a: number, b: number): number {
    const mask = this.expires.length - 1;
    let slot = mix(b) & mask;
    while (this.expires[slot] !== 0 && (this.hi[slot] !== a || this.lo[slot] !== b)) slot = (slot + 1) & mask;
    return slot;
  }

  private allocate(capacity: number): void {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.counts = new Uint32Array(capacity);
    this.conversions = new Uint32Array(capacity);
    this.expires = new Uint32Array(capacity);
    this.used = 0;
  }

  private rebuild(nowSec: number): void {
    const { hi, lo, counts, conversions, expires } = this;
    let live = 0;
    for (let i = 0; i < expires.length; i++) if ((expires[i] as number) > nowSec) live++;
    let capacity = this.minCapacity;
    while (capacity < 3 * (live + 1)) capacity *= 2;
    this.allocate(capacity);
    for (let i = 0; i < expires.length; i++) {
      const expiry = expires[i] as number;
      if (expiry <= nowSec) continue;
      const slot = this.find(hi[i] as number, lo[i] as number);
      this.hi[slot] = hi[i] as number;
      this.lo[slot] = lo[i] as number;
      this.counts[slot] = counts[i] as number;
      this.conversions[slot] = conversions[i] as number;
      this.expires[slot] = expiry;
      this.used++;
    }
  }
}

/**
 * Counters with the same semantics as the DynamoDB store (expired = absent), for unit tests and the
 * backtest. The clock is injected (event time in the backtest).
 *
 * Memory follows the live counters, never the log's length: windowed counters (a bucket number in the
 * key, so a window's expiry never moves) sit in a Map swept of expired windows whenever it has grown by
 * half since the last sweep (amortised O(1) a write, at most 1.5 × the live windows held); unbucketed
 * plain counters (gclid, token uses, an actor's lifetime clicks and conversions) sit in LongLivedCounters.
 */
export class InMemoryVelocityStore implements VelocityStore {
  private readonly cells = new Map<string, CounterCell>();
  private readonly longLived: LongLivedCounters;
  private sweepAtSize: number;

  constructor(
    private readonly now: () => number,
    private readonly minSweepSize = 4096,
  ) {
    this.sweepAtSize = minSweepSize;
    let capacity = 16;
    while (capacity < minSweepSize) capacity *= 2;
    this.longLived = new LongLivedCounters(capacity);
  }

  /** Counters held, live or expired but not yet dropped. */
  get size(): number {
    return this.cells.size + this.longLived.size;
  }

  async increment(specs: readonly CounterSpec[]): Promise<CounterValues> {
    return this.incrementSync(specs).values;
  }

  /** The synchronous core; also hands back the cells so a caller can read their later totals. */
  incrementSync(specs: readonly CounterSpec[]): { values: CounterValues; cells: CounterCell[] } {
    const nowSec = Math.floor(this.now() / 1000);
    this.sweep(nowSec);
    const cells: CounterCell[] = [];
    const results: number[] = [];
    const conversions: number[] = [];
    for (const spec of specs) {
      if (spec.previous === undefined && spec.member === undefined) {
        // A copy: such a counter is read forwards only (the first click of a gclid stays the genuine one).
        const count = this.longLived.increment(spec.key, spec.expiresAt, nowSec, spec.expiryFromFirst);
        cells.push({ count, members: undefined, expiresAt: spec.expiresAt });
        results.push(count);
        conversions.push(spec.conversions === undefined ? 0 : this.longLived.conversionsOf(spec.key, nowSec));
        continue;
      }
      const cell = this.live(this.slotKey(spec, nowSec), spec.member !== undefined, spec.expiresAt, nowSec);
      if (spec.member !== undefined) {
        cell.members ??= new Set();
        cell.members.add(spec.member);
      } else cell.count++;
      cell.expiresAt = spec.expiresAt;
      cells.push(cell);
      results.push(cellValue(cell));
      conversions.push(0);
    }
    return { values: counterValuesFrom(specs, results, conversions), cells };
  }

  /** A trusted conversion on each live actor counter of `specs` (actorCountersFor): its `conv`. */
  async addConversion(specs: readonly CounterSpec[]): Promise<void> {
    this.addConversionSync(specs);
  }

  addConversionSync(specs: readonly CounterSpec[]): void {
    const nowSec = Math.floor(this.now() / 1000);
    for (const spec of specs) if (spec.conversions !== undefined) this.longLived.addConversion(spec.key, nowSec);
  }

  /** The window a spec counts in: its own, or for a campaign past the address's slots the overflow (CampaignSlot). */
  private slotKey(spec: CounterSpec, nowSec: number): string {
    const { slot } = spec;
    if (slot === undefined) return spec.key;
    const slots = this.live(slot.slotsKey, true, spec.expiresAt, nowSec);
    slots.members ??= new Set();
    if (!slots.members.has(slot.campaign) && slots.members.size >= CAMPAIGN_SLOTS) return slot.overflowKey;
    slots.members.add(slot.campaign);
    return spec.key;
  }

  /** The live window under `windowKey`; an expired one is replaced by an empty one. */
  private live(windowKey: string, withMembers: boolean, expiresAt: number, nowSec: number): CounterCell {
    const key = compactKey(windowKey);
    let cell = this.cells.get(key);
    if (cell === undefined || cell.expiresAt <= nowSec) {
      cell = { count: 0, members: withMembers ? new Set() : undefined, expiresAt };
      this.cells.set(key, cell);
    }
    return cell;
  }

  private sweep(nowSec: number): void {
    if (this.cells.size < this.sweepAtSize) return;
    for (const [key, cell] of this.cells) if (cell.expiresAt <= nowSec) this.cells.delete(key);
    this.sweepAtSize = Math.max(this.minSweepSize, Math.ceil(1.5 * this.cells.size));
  }
}
