import { Backtest, type BacktestSummary, type CounterStore } from '../../../shared/backtest/backtest';
import { evaluationLog } from '../../../shared/backtest/evaluationLog';
import type { LogLine, ScoredClick } from '../../../shared/backtest/logLine';
import { bundledIntel } from '../../../shared/intel/current';
import { type CounterSpec, counterValuesFrom, engineConfigFrom } from '../../../shared/scoring';
import { type CounterCell, cellValue, InMemoryVelocityStore } from '../../../shared/store/velocity/memory';

/**
 * The counters as they were before eviction: every counter kept for ever under its full key, an expired
 * one read as absent. Memory grows with the log; verdicts are the reference.
 */
class UnboundedCounters implements CounterStore {
  private readonly cells = new Map<string, CounterCell>();
  private readonly conversions = new Map<string, number>();
  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.cells.size;
  }

  incrementSync(specs: readonly CounterSpec[]) {
    const nowSec = Math.floor(this.now() / 1000);
    const cells: CounterCell[] = [];
    for (const spec of specs) {
      let cell = this.cells.get(spec.key);
      if (cell === undefined || cell.expiresAt <= nowSec) {
        cell = { count: 0, members: spec.member === undefined ? undefined : new Set(), expiresAt: spec.expiresAt };
        this.cells.set(spec.key, cell);
        this.conversions.delete(spec.key);
      }
      if (spec.member !== undefined) cell.members?.add(spec.member);
      else cell.count++;
      if (!spec.expiryFromFirst || cell.count === 1) cell.expiresAt = spec.expiresAt;
      cells.push(cell);
    }
    const conversions = specs.map((spec) =>
      spec.conversions === undefined ? 0 : (this.conversions.get(spec.key) ?? 0),
    );
    return { values: counterValuesFrom(specs, cells.map(cellValue), conversions), cells };
  }

  addConversionSync(specs: readonly CounterSpec[]) {
    const nowSec = Math.floor(this.now() / 1000);
    for (const spec of specs) {
      const cell = this.cells.get(spec.key);
      if (spec.conversions !== undefined && cell !== undefined && cell.expiresAt > nowSec)
        this.conversions.set(spec.key, (this.conversions.get(spec.key) ?? 0) + 1);
    }
  }
}

const DAY = 86_400_000;
/** The shortest retention a property may set: a gclid is a duplicate for 30 days from its first click. */
const RETENTION_DAYS = 30;

/**
 * A labelled log over ~100 days (20 minutes between clicks) with, from day 25 on, every 20th click followed
 * by a replay of a gclid first clicked 25–35 days earlier: some still inside the retention (duplicate_gclid
 * must fire), some past it (the counter has expired and must read as new).
 */
function* longLog(clicks: number): Generator<LogLine> {
  const gclids: { at: number; gclid: string }[] = [];
  let n = 0;
  for (const { line } of evaluationLog({ clicks, seed: 11, gapMs: 1_200_000 })) {
    yield line;
    if (line.type !== 'click' || line.gclid === undefined) continue;
    const at = Date.parse(line.timestamp);
    gclids.push({ at, gclid: line.gclid });
    if (++n % 20 !== 0 || at - (gclids[0] as { at: number }).at < 25 * DAY) continue;
    const target = at - (25 + ((n / 20) % 11)) * DAY;
    const old = gclids.find((g) => g.at >= target);
    if (old === undefined) continue;
    yield {
      ...line,
      click_id: `clk_replay${n}`,
      gclid: old.gclid,
      visitor_id: `vis_replay${n}`,
      ip: `81.2.${n % 250}.7`,
    };
  }
}

function run(counters: (clock: () => number) => CounterStore, clicks: number) {
  const config = engineConfigFrom();
  const scored: ScoredClick[] = [];
  const backtest = new Backtest(
    { configFor: () => config, intel: bundledIntel(), counters, retentionDays: RETENTION_DAYS },
    (s) => scored.push(s),
  );
  for (const line of longLog(clicks)) backtest.push(line);
  backtest.finish();
  return { scored, summary: backtest.summary };
}

const figures = (s: BacktestSummary) => ({
  clicks: s.clicks,
  atClick: s.atClick,
  final: s.final,
  rules: s.rules,
  auc: s.separation.auc(),
});

describe('bounded backtest state', () => {
  it('gives every click the verdicts of counters that are never evicted', () => {
    const clicks = 7_200;
    let bounded: InMemoryVelocityStore | undefined;
    let unbounded: UnboundedCounters | undefined;
    const evicting = run((clock) => {
      // A small sweep size: windows and gclids are dropped (and the gclid table rebuilt) many times over.
      bounded = new InMemoryVelocityStore(clock, 64);
      return bounded;
    }, clicks);
    const reference = run((clock) => {
      unbounded = new UnboundedCounters(clock);
      return unbounded;
    }, clicks);

    expect(evicting.scored.length).toBeGreaterThan(clicks);
    expect(evicting.scored).toEqual(reference.scored);
    expect(figures(evicting.summary)).toEqual(figures(reference.summary));
    // The log exercises what eviction could break: replays inside the retention and past it.
    const replays = reference.scored.filter((s) => s.click_id.startsWith('clk_replay'));
    const duplicate = replays.filter((s) => s.reasons.some((r) => r.rule === 'duplicate_gclid'));
    expect(duplicate.length).toBeGreaterThan(5);
    expect(replays.length - duplicate.length).toBeGreaterThan(5);
    // And eviction happened: far fewer counters held than the reference's one per gclid and window.
    expect(5 * (bounded?.size ?? Number.POSITIVE_INFINITY)).toBeLessThan(unbounded?.size ?? 0);
  });
});
