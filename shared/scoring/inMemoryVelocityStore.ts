import { type CounterSpec, type CounterValues, counterValuesFrom, type VelocityStore } from './velocity';

/** One counter item; the backtest keeps references to read a window's final total later. */
export interface CounterCell {
  count: number;
  members: Set<string> | undefined;
  expiresAt: number;
}

export const cellValue = (cell: CounterCell): number => cell.members?.size ?? cell.count;

/**
 * Long keys (a gclid counter lives 90 days: one per click in a long backtest) are kept as a 64-bit hash,
 * two FNV-1a passes with different offsets: ~14 characters instead of ~100, collisions negligible.
 */
function compactKey(key: string): string {
  if (key.length <= 40) return key;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `#${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}`;
}

/**
 * Counters in a Map with the same semantics as the DynamoDB store (expired = absent), for unit tests
 * and the backtest. The clock is injected (event time in the backtest). Expired items are swept each
 * time the map has doubled since the last sweep: amortised O(1) per write, and memory stays within
 * twice the counters still inside their windows.
 */
export class InMemoryVelocityStore implements VelocityStore {
  private readonly cells = new Map<string, CounterCell>();
  private sweepAtSize: number;

  constructor(
    private readonly now: () => number,
    private readonly minSweepSize = 4096,
  ) {
    this.sweepAtSize = minSweepSize;
  }

  get size(): number {
    return this.cells.size;
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
    for (const spec of specs) {
      const key = compactKey(spec.key);
      let cell = this.cells.get(key);
      if (cell === undefined || cell.expiresAt <= nowSec) {
        cell = { count: 0, members: spec.member === undefined ? undefined : new Set(), expiresAt: spec.expiresAt };
        this.cells.set(key, cell);
      }
      if (spec.member !== undefined) {
        cell.members ??= new Set();
        cell.members.add(spec.member);
      } else cell.count++;
      cell.expiresAt = spec.expiresAt;
      cells.push(cell);
      results.push(cellValue(cell));
    }
    return { values: counterValuesFrom(specs, results), cells };
  }

  private sweep(nowSec: number): void {
    if (this.cells.size < this.sweepAtSize) return;
    for (const [key, cell] of this.cells) if (cell.expiresAt <= nowSec) this.cells.delete(key);
    this.sweepAtSize = Math.max(this.minSweepSize, 2 * this.cells.size);
  }
}
