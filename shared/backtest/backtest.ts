import type { IpIntelLookup } from '../intel/types';
import type { Label } from '../model';
import {
  type BehaviourInput,
  behaviourSignals,
  type ClickFacts,
  type ClickScore,
  type CounterCell,
  type CounterName,
  type CounterValues,
  cellValue,
  clickFacts,
  clickSignals,
  EMPTY_SOURCE_QUALITY,
  type EngineConfig,
  InMemoryVelocityStore,
  type SourceQuality,
  type SourceStats,
  scoreClick,
  sourceQualityFrom,
  velocityCountersFor,
  verdictFrom,
} from '../scoring';
import type { LogLine, ScoredClick } from './logLine';

/**
 * The offline backtest: the live engine over a log in event time with in-memory counters.
 *
 * A click's final verdict can change while later lines may still reach it: its beacon, a conversion
 * of its gclid, and later clicks landing in the same velocity windows. That is bounded by the
 * re-scoring horizon (default 24 h of event time): once the log's clock is past a click's time plus
 * the horizon, its verdict is computed from the final totals of its windows and it is written.
 * Output stays in input order (a click waits behind earlier ones), and memory holds only the clicks
 * inside the horizon plus live counters. Beacons and conversions arriving after the horizon are
 * counted as late and ignored; so are gclid and token counters looking backwards (the first click of
 * a gclid stays the genuine one). Click tokens are not verified offline (no signing key).
 */
export interface BacktestOptions {
  readonly configFor: (propertyId: string) => EngineConfig;
  readonly intel: IpIntelLookup;
  readonly horizonMs?: number;
  /** How often (event time) each property's source-quality snapshot is recomputed, as the scheduled job would. */
  readonly sourceQualityEveryMs?: number;
}

export interface BacktestSummary {
  lines: number;
  clicks: number;
  beacons: number;
  conversions: number;
  skipped: number;
  late: number;
  atClick: Record<Label, number>;
  final: Record<Label, number>;
  rules: Record<string, number>;
}

interface PendingClick {
  readonly clickId: string;
  readonly propertyId: string;
  readonly facts: ClickFacts;
  readonly specs: readonly CounterName[];
  readonly cells: readonly CounterCell[];
  readonly atClickCounters: CounterValues;
  readonly atClick: ClickScore;
  readonly sources: SourceQuality;
  readonly finalAt: number;
  behaviour?: BehaviourInput;
  converted?: boolean;
}

interface PropertyFeedback {
  readonly total: { clicks: number; conversions: number };
  readonly bySource: Map<string, { clicks: number; conversions: number }>;
  snapshot: SourceQuality;
  snapshotAt: number;
}

/** Counters whose later growth must not reach back to earlier clicks. */
const FORWARD_ONLY: ReadonlySet<CounterName> = new Set(['gclid', 'token_uses']);
const HOUR = 3_600_000;

export class Backtest {
  readonly summary: BacktestSummary = {
    lines: 0,
    clicks: 0,
    beacons: 0,
    conversions: 0,
    skipped: 0,
    late: 0,
    atClick: { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 },
    final: { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 },
    rules: {},
  };
  private clock = Number.NEGATIVE_INFINITY;
  private readonly store = new InMemoryVelocityStore(() => this.clock);
  private readonly queue: PendingClick[] = [];
  private head = 0;
  private readonly byClickId = new Map<string, PendingClick>();
  private readonly byGclid = new Map<string, PendingClick>();
  private readonly feedback = new Map<string, PropertyFeedback>();
  private readonly horizonMs: number;
  private readonly sourceQualityEveryMs: number;

  constructor(
    private readonly options: BacktestOptions,
    private readonly emit: (scored: ScoredClick) => void,
  ) {
    this.horizonMs = options.horizonMs ?? 24 * HOUR;
    this.sourceQualityEveryMs = options.sourceQualityEveryMs ?? HOUR;
  }

  /** Clicks held back until nothing later can change them. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  push(line: LogLine): void {
    this.summary.lines++;
    const at = Date.parse(line.timestamp);
    // Event time only moves forward: a slightly out-of-order line is scored at the clock's time.
    if (at > this.clock) this.clock = at;
    if (line.type === 'click') this.click(line);
    else if (line.type === 'beacon') this.beacon(line);
    else this.conversion(line);
    this.flush(this.clock);
  }

  /** Counts a line that could not be parsed. */
  skip(): void {
    this.summary.lines++;
    this.summary.skipped++;
  }

  /** End of log: every remaining click is final. */
  finish(): void {
    this.flush(Number.POSITIVE_INFINITY);
  }

  private click(line: Extract<LogLine, { type: 'click' }>): void {
    this.summary.clicks++;
    const clickId = line.click_id ?? `clk_line${this.summary.lines}`;
    const facts = clickFacts(
      {
        propertyId: line.property,
        ip: line.ip,
        ...(line.user_agent !== undefined ? { userAgent: line.user_agent } : {}),
        ...(line.gclid !== undefined ? { gclid: line.gclid } : {}),
        ...(line.page_url !== undefined ? { pageUrl: line.page_url } : {}),
        ...(line.visitor_id !== undefined ? { visitorId: line.visitor_id } : {}),
      },
      this.options.intel,
    );
    const specs = velocityCountersFor(facts, this.clock);
    const { values, cells } = this.store.incrementSync(specs);
    const sources = this.sourceQuality(line.property, facts.sources);
    const atClick = scoreClick(this.options.configFor(line.property), facts, values, sources);
    this.summary.atClick[atClick.label]++;
    const pending: PendingClick = {
      clickId,
      propertyId: line.property,
      facts,
      specs: specs.map((s) => s.counter),
      cells,
      atClickCounters: values,
      atClick,
      sources,
      finalAt: this.clock + this.horizonMs,
    };
    this.queue.push(pending);
    this.byClickId.set(clickId, pending);
    if (facts.gclid !== undefined) this.byGclid.set(facts.gclid, pending);
  }

  private beacon(line: Extract<LogLine, { type: 'beacon' }>): void {
    this.summary.beacons++;
    const pending = this.byClickId.get(line.click_id);
    if (pending === undefined) {
      this.summary.late++;
      return;
    }
    pending.behaviour = {
      ...(line.time_on_page !== undefined ? { timeOnPageSeconds: line.time_on_page } : {}),
      ...(line.scroll_depth !== undefined ? { scrollDepth: line.scroll_depth } : {}),
      ...(line.mouse_entropy !== undefined ? { mouseEntropy: line.mouse_entropy } : {}),
      ...(line.honeypot !== undefined ? { honeypot: line.honeypot } : {}),
      ...(line.touch !== undefined ? { touch: line.touch } : {}),
    };
  }

  private conversion(line: Extract<LogLine, { type: 'conversion' }>): void {
    this.summary.conversions++;
    const pending =
      (line.click_id !== undefined ? this.byClickId.get(line.click_id) : undefined) ??
      (line.gclid !== undefined ? this.byGclid.get(line.gclid) : undefined);
    if (pending === undefined || pending.converted === true) {
      this.summary.late++;
      return;
    }
    pending.converted = true;
    const fb = this.feedbackOf(pending.propertyId);
    fb.total.conversions++;
    for (const source of pending.facts.sources) {
      const stats = fb.bySource.get(source);
      if (stats !== undefined) stats.conversions++;
    }
  }

  private flush(until: number): void {
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as PendingClick;
      if (next.finalAt > until) break;
      this.head++;
      this.finalize(next);
    }
    // Compact the consumed prefix now and then instead of shifting on every click.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private finalize(click: PendingClick): void {
    this.byClickId.delete(click.clickId);
    const gclid = click.facts.gclid;
    if (gclid !== undefined && this.byGclid.get(gclid) === click) this.byGclid.delete(gclid);

    const counters: Partial<Record<CounterName, number>> = { ...click.atClickCounters };
    click.specs.forEach((counter, i) => {
      if (FORWARD_ONLY.has(counter)) return;
      const value = cellValue(click.cells[i] as CounterCell);
      if (value > (counters[counter] ?? 0)) counters[counter] = value;
    });
    const final = verdictFrom(this.options.configFor(click.propertyId), {
      ...click.atClick.signals,
      click: clickSignals(click.facts, counters, click.sources),
      ...(click.behaviour !== undefined
        ? { behaviour: behaviourSignals(click.behaviour, click.atClick.signals.mobile) }
        : {}),
      ...(click.converted === true ? { converted: true } : {}),
    });
    this.summary.final[final.label]++;
    for (const rule of final.rules) this.summary.rules[rule] = (this.summary.rules[rule] ?? 0) + 1;
    this.emit({
      click_id: click.clickId,
      score_at_click: click.atClick.score,
      label_at_click: click.atClick.label,
      score: final.score,
      label: final.label,
      reasons: final.reasons,
    });
  }

  private feedbackOf(propertyId: string): PropertyFeedback {
    let fb = this.feedback.get(propertyId);
    if (fb === undefined) {
      fb = {
        total: { clicks: 0, conversions: 0 },
        bySource: new Map(),
        snapshot: EMPTY_SOURCE_QUALITY,
        snapshotAt: this.clock,
      };
      this.feedback.set(propertyId, fb);
    }
    return fb;
  }

  /** Counts this click's sources and returns the snapshot a scheduled job would have produced by now. */
  private sourceQuality(propertyId: string, sources: readonly string[]): SourceQuality {
    const fb = this.feedbackOf(propertyId);
    fb.total.clicks++;
    for (const source of sources) {
      const stats = fb.bySource.get(source);
      if (stats === undefined) fb.bySource.set(source, { clicks: 1, conversions: 0 });
      else stats.clicks++;
    }
    if (this.clock - fb.snapshotAt >= this.sourceQualityEveryMs) {
      fb.snapshot = sourceQualityFrom(Object.fromEntries(fb.bySource) as Record<string, SourceStats>, fb.total);
      fb.snapshotAt = this.clock;
    }
    return fb.snapshot;
  }
}
