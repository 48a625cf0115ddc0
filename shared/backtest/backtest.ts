import type { IpIntelLookup } from '../intel/types';
import type { Label } from '../model';
import { definedOnly } from '../optional';
import {
  actorCountersFor,
  type BehaviourInput,
  behaviourSignals,
  type ClickFacts,
  type ClickScore,
  type CounterName,
  type CounterValues,
  clickFacts,
  clickSignals,
  EMPTY_SOURCE_QUALITY,
  type EngineConfig,
  mergeBehaviour,
  type Signal,
  type SourceQuality,
  SourceTally,
  scoreClick,
  velocityCountersFor,
  verdictFrom,
} from '../scoring';
import { SOURCE_QUALITY_CACHE_MS } from '../store/sourceStats';
import { type CounterCell, cellValue, InMemoryVelocityStore } from '../store/velocity/memory';
import { type ClickTokenCheck, verifyClickToken } from '../tokens';
import type { LogLine, ScoredClick } from './logLine';
import { Separation } from './separation';

/**
 * The offline backtest: the live engine over a log in event time with in-memory counters.
 *
 * A click's final verdict can change while later lines may still reach it: its beacon, a conversion
 * of its gclid, and later clicks landing in the same velocity windows. That is bounded by the
 * re-scoring horizon (default 24 h of event time): once the log's clock is past a click's time plus
 * the horizon, its verdict is computed from the final totals of its windows and it is written.
 * Output stays in input order (a click waits behind earlier ones), and memory holds only the clicks
 * inside the horizon plus live counters. Beacons and conversions that match no click still inside the
 * horizon are counted as unmatched and ignored. gclid and token counters never look backwards: the
 * first click of a gclid or a token stays the genuine one.
 *
 * Click tokens are verified as the service does (the property's derived key, expected property) but
 * against the line's own timestamp, when `tokenKeyFor` is given; without it they are counted, not judged.
 */
export interface BacktestOptions {
  readonly configFor: (propertyId: string) => EngineConfig;
  readonly intel: IpIntelLookup;
  readonly horizonMs?: number;
  /**
   * How stale (event time) a property's learned statistics may be at a click: the service's per-container
   * cache (SOURCE_QUALITY_CACHE_MS) by default, so the at-click score only uses what was known then.
   */
  readonly sourceQualityEveryMs?: number;
  /** The property's click-token signing key (shared/auth/signingKey); absent: tokens are not verified. */
  readonly tokenKeyFor?: (propertyId: string) => Buffer;
  /**
   * The properties' retention (PropertyConfig.retentionDays, 396 by default): a gclid is a duplicate while its first
   * click is kept, as in the service.
   */
  readonly retentionDays?: number;
  /**
   * The velocity counters, given the log's clock: the bounded InMemoryVelocityStore by default (counters
   * dropped once their TTL has passed, as the service's). Tests pass a store that never evicts to prove
   * that eviction changes no verdict.
   */
  readonly counters?: (clock: () => number) => CounterStore;
}

/** What the backtest needs of a counter store: the values at click time and the cells to read final totals from. */
export type CounterStore = Pick<InMemoryVelocityStore, 'incrementSync' | 'addConversionSync'>;

export interface TokenSummary {
  /** Clicks that carried a `click_token`. */
  seen: number;
  /** False when no signing key was given: the token rules could not fire. */
  verified: boolean;
  invalid: number;
  /** Of the invalid, those whose MAC did not match: all of them points at a wrong secret. */
  badSignature: number;
  expired: number;
  /** Clicks whose token had been used before (click_token_replay at click time). */
  replayed: number;
}

export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
}

export interface BacktestSummary {
  lines: number;
  clicks: number;
  beacons: number;
  conversions: number;
  skipped: number;
  /** The first few skipped lines, for the report. */
  skippedLines: SkippedLine[];
  unmatched: number;
  tokens: TokenSummary;
  atClick: Record<Label, number>;
  final: Record<Label, number>;
  rules: Record<string, number>;
  /** How the at-click score separates converting from never-converting clicks (clicks with a final verdict). */
  separation: Separation;
}

interface PendingClick {
  readonly clickId: string;
  readonly propertyId: string;
  readonly facts: ClickFacts;
  readonly specs: readonly CounterName[];
  readonly cells: readonly CounterCell[];
  readonly atClickCounters: CounterValues;
  /** Only what the output needs of the at-click verdict: its reasons are rebuilt at the end anyway. */
  readonly atClick: Pick<ClickScore, 'score' | 'label'>;
  /** The learned signals at click time (source, repeated actor): what the statistics said then, kept for the final verdict. */
  readonly learned: Signal | undefined;
  readonly actor: Signal | undefined;
  /** The statistics keys its click taught (absent: FRAUD at click, taught nothing), where its conversion counts. */
  readonly learnsFrom: readonly string[] | undefined;
  readonly finalAt: number;
  behaviour?: BehaviourInput;
  converted?: boolean;
}

interface PropertyFeedback {
  readonly tally: SourceTally;
  snapshot: SourceQuality;
  snapshotAt: number;
}

/** Counters whose later growth must not reach back to earlier clicks (an actor's statistics: only what was known then). */
const FORWARD_ONLY: ReadonlySet<CounterName> = new Set([
  'gclid',
  'token_uses',
  'ip_clicks',
  'subnet_clicks',
  'visitor_clicks',
]);
const HOUR = 3_600_000;
export const SKIPPED_LINES_KEPT = 10;

export class Backtest {
  readonly summary: BacktestSummary = {
    lines: 0,
    clicks: 0,
    beacons: 0,
    conversions: 0,
    skipped: 0,
    skippedLines: [],
    unmatched: 0,
    tokens: { seen: 0, verified: false, invalid: 0, badSignature: 0, expired: 0, replayed: 0 },
    atClick: { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 },
    final: { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 },
    rules: {},
    separation: new Separation(),
  };
  private clock = Number.NEGATIVE_INFINITY;
  private readonly store: CounterStore;
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
    this.sourceQualityEveryMs = options.sourceQualityEveryMs ?? SOURCE_QUALITY_CACHE_MS;
    this.summary.tokens.verified = options.tokenKeyFor !== undefined;
    const clock = () => this.clock;
    this.store = options.counters?.(clock) ?? new InMemoryVelocityStore(clock);
  }

  /** Clicks held back until nothing later can change them. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** `lineNumber` (1-based, in the input) names clicks that carry no click_id. */
  push(line: LogLine, lineNumber?: number): void {
    this.summary.lines++;
    const at = Date.parse(line.timestamp);
    // Event time only moves forward: a slightly out-of-order line is scored at the clock's time.
    if (at > this.clock) this.clock = at;
    if (line.type === 'click') this.click(line, at, lineNumber ?? this.summary.lines);
    else if (line.type === 'beacon') this.beacon(line);
    else this.conversion(line);
    this.flush(this.clock);
  }

  /** Counts a line that could not be read; the first few are kept with their reason. */
  skip(lineNumber: number, reason: string): void {
    this.summary.lines++;
    this.summary.skipped++;
    if (this.summary.skippedLines.length < SKIPPED_LINES_KEPT)
      this.summary.skippedLines.push({ line: lineNumber, reason });
  }

  /** End of log: every remaining click is final. */
  finish(): void {
    this.flush(Number.POSITIVE_INFINITY);
  }

  private click(line: Extract<LogLine, { type: 'click' }>, at: number, lineNumber: number): void {
    this.summary.clicks++;
    const clickId = line.click_id ?? `clk_line${lineNumber}`;
    const token = line.click_token === undefined ? undefined : this.checkToken(line.property, line.click_token, at);
    const facts = clickFacts(
      definedOnly({
        propertyId: line.property,
        ip: line.ip,
        userAgent: line.user_agent,
        gclid: line.gclid,
        pageUrl: line.page_url,
        visitorId: line.visitor_id,
        token,
      }),
      this.options.intel,
    );
    const specs = velocityCountersFor(facts, this.clock, this.options.retentionDays);
    const { values, cells } = this.store.incrementSync(specs);
    const fb = this.feedbackOf(line.property);
    const atClick = scoreClick(this.options.configFor(line.property), facts, values, fb.snapshot);
    // The learned signals as they counted (absent when the property weighs the rule 0).
    const learned = atClick.rules.includes('low_quality_source')
      ? atClick.signals.click.find((signal) => signal.rule === 'low_quality_source')
      : undefined;
    const actor = atClick.rules.includes('repeat_actor')
      ? atClick.signals.click.find((signal) => signal.rule === 'repeat_actor')
      : undefined;
    // As the service (shared/ingestion/engine recordSourceClicks): a click FRAUD at click time teaches nothing
    // and counts towards its sources' invalid share; any other teaches the keys fixed at click time.
    const learnsFrom = atClick.label === 'FRAUD' ? undefined : (atClick.signals.learnsFrom ?? facts.sources);
    fb.tally.apply([
      learnsFrom === undefined
        ? { sources: facts.sources, clicks: 0, conversions: 0, fraud: 1 }
        : { sources: learnsFrom, clicks: 1, conversions: 0 },
    ]);
    this.summary.atClick[atClick.label]++;
    if ((values.token_uses ?? 0) > 1) this.summary.tokens.replayed++;
    const pending: PendingClick = {
      clickId,
      propertyId: line.property,
      facts,
      specs: specs.map((s) => s.counter),
      cells,
      atClickCounters: values,
      atClick: { score: atClick.score, label: atClick.label },
      learned,
      actor,
      learnsFrom,
      finalAt: this.clock + this.horizonMs,
    };
    this.queue.push(pending);
    this.byClickId.set(clickId, pending);
    if (facts.gclid !== undefined) this.byGclid.set(facts.gclid, pending);
  }

  /** The live path's check (derived key, bound property), at the line's own time rather than the clock's. */
  private checkToken(propertyId: string, token: string, at: number): ClickTokenCheck | undefined {
    const tokens = this.summary.tokens;
    tokens.seen++;
    const keyFor = this.options.tokenKeyFor;
    if (keyFor === undefined) return undefined;
    const check = verifyClickToken(keyFor(propertyId), token, at, propertyId);
    if (check.status === 'expired') tokens.expired++;
    else if (check.status === 'invalid') {
      tokens.invalid++;
      if (check.reason === 'signature') tokens.badSignature++;
    }
    return check;
  }

  private beacon(line: Extract<LogLine, { type: 'beacon' }>): void {
    this.summary.beacons++;
    const pending = this.byClickId.get(line.click_id);
    if (pending === undefined) {
      this.summary.unmatched++;
      return;
    }
    pending.behaviour = mergeBehaviour(
      pending.behaviour,
      definedOnly({
        timeOnPageSeconds: line.time_on_page,
        scrollDepth: line.scroll_depth,
        mouseEntropy: line.mouse_entropy,
        honeypot: line.honeypot,
        touch: line.touch,
      }),
    );
  }

  private conversion(line: Extract<LogLine, { type: 'conversion' }>): void {
    this.summary.conversions++;
    const pending =
      (line.click_id !== undefined ? this.byClickId.get(line.click_id) : undefined) ??
      (line.gclid !== undefined ? this.byGclid.get(line.gclid) : undefined);
    if (pending === undefined || pending.converted === true) {
      this.summary.unmatched++;
      return;
    }
    pending.converted = true;
    // A log's conversions are the advertiser's own records: trusted, as the webhook's. The click's actors learn
    // it as the conversion scorer counts it (shared/ingestion/conversions).
    const facts = pending.facts;
    this.store.addConversionSync(actorCountersFor(pending.propertyId, facts.ip, facts.visitorId, this.clock));
    if (pending.learnsFrom !== undefined)
      this.feedbackOf(pending.propertyId).tally.apply([{ sources: pending.learnsFrom, clicks: 0, conversions: 1 }]);
  }

  private flush(until: number): void {
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as PendingClick;
      if (next.finalAt > until) break;
      // Released at once, not at the next compaction: memory holds only the clicks still inside the horizon.
      (this.queue as (PendingClick | undefined)[])[this.head++] = undefined;
      this.finalize(next);
    }
    // Compact the consumed prefix now and then instead of shifting on every click.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private finalize(click: PendingClick): void {
    // A click_id repeated in the log must not drop the later click's entry.
    if (this.byClickId.get(click.clickId) === click) this.byClickId.delete(click.clickId);
    const gclid = click.facts.gclid;
    if (gclid !== undefined && this.byGclid.get(gclid) === click) this.byGclid.delete(gclid);

    const counters: Partial<Record<CounterName, number>> = { ...click.atClickCounters };
    click.specs.forEach((counter, i) => {
      if (FORWARD_ONLY.has(counter)) return;
      const value = cellValue(click.cells[i] as CounterCell);
      if (value > (counters[counter] ?? 0)) counters[counter] = value;
    });
    const clickLevel = clickSignals(click.facts, counters, EMPTY_SOURCE_QUALITY);
    if (click.learned !== undefined) clickLevel.push(click.learned);
    if (click.actor !== undefined) clickLevel.push(click.actor);
    const final = verdictFrom(this.options.configFor(click.propertyId), {
      ip: click.facts.ip,
      mobile: click.facts.userAgent.mobile,
      click: clickLevel,
      behaviour: click.behaviour && behaviourSignals(click.behaviour, click.facts.userAgent.mobile),
      converted: click.converted,
    });
    this.summary.final[final.label]++;
    this.summary.separation.add(click.atClick, click.converted === true, click.learned);
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

  /** The property's statistics, with the snapshot a container's cache would hold by now. */
  private feedbackOf(propertyId: string): PropertyFeedback {
    let fb = this.feedback.get(propertyId);
    if (fb === undefined) {
      fb = { tally: new SourceTally(), snapshot: EMPTY_SOURCE_QUALITY, snapshotAt: this.clock };
      this.feedback.set(propertyId, fb);
    } else if (this.clock - fb.snapshotAt >= this.sourceQualityEveryMs) {
      fb.snapshot = fb.tally.quality();
      fb.snapshotAt = this.clock;
    }
    return fb;
  }
}
