import { Backtest, type BacktestSummary } from '../../../shared/backtest/backtest';
import {
  type ClickKind,
  evaluationLog,
  type LabelledLine,
  MFA_PLACEMENT,
  type NetworkLine,
  networkLog,
} from '../../../shared/backtest/evaluationLog';
import type { ScoredClick } from '../../../shared/backtest/logLine';
import { bundledIntel } from '../../../shared/intel/current';
import { type EngineConfig, engineConfigFrom } from '../../../shared/scoring';

/** Runs the backtest over a labelled log (built once per file and replayed per config) and joins every verdict to the click's truth. */
function evaluate(config: EngineConfig, log: readonly LabelledLine[]) {
  const truth = new Map<string, { kind: ClickKind; converts: boolean; order: number }>();
  const scored: ScoredClick[] = [];
  const backtest = new Backtest({ configFor: () => config, intel: bundledIntel() }, (s) => scored.push(s));
  let order = 0;
  for (const { line, truth: t } of log) {
    if (t !== undefined && line.type === 'click') truth.set(line.click_id as string, { ...t, order: order++ });
    backtest.push(line);
  }
  backtest.finish();
  const byKind = new Map<
    ClickKind,
    { n: number; suspiciousAtClick: number; fraudAtClick: number; suspicious: number; fraud: number }
  >();
  for (const s of scored) {
    const t = truth.get(s.click_id);
    if (t === undefined) throw new Error(`no truth for ${s.click_id}`);
    const k = byKind.get(t.kind) ?? { n: 0, suspiciousAtClick: 0, fraudAtClick: 0, suspicious: 0, fraud: 0 };
    k.n++;
    if (s.label_at_click !== 'CLEAN') k.suspiciousAtClick++;
    if (s.label_at_click === 'FRAUD') k.fraudAtClick++;
    if (s.label !== 'CLEAN') k.suspicious++;
    if (s.label === 'FRAUD') k.fraud++;
    byKind.set(t.kind, k);
  }
  return { summary: backtest.summary, byKind, scored, truth };
}

const share = (n: number, of: number) => n / Math.max(1, of);

describe('labelled evaluation logs (known source qualities, carrier NAT, delayed conversions, fraud kinds)', () => {
  let learned: {
    summary: BacktestSummary;
    byKind: ReturnType<typeof evaluate>['byKind'];
    scored: ScoredClick[];
    truth: ReturnType<typeof evaluate>['truth'];
  };
  let handRulesOnly: BacktestSummary;
  beforeAll(() => {
    const log = [...evaluationLog({ clicks: 30_000, seed: 7, mix: { mfa_placement: 0.03 } })];
    learned = evaluate(engineConfigFrom(), log);
    handRulesOnly = evaluate(
      engineConfigFrom({ ruleWeights: { low_quality_source: 0, repeat_actor: 0 } }),
      log,
    ).summary;
  });

  it('keeps false positives on ordinary visitors (home and shared carrier addresses) within 2 % SUSPICIOUS and 0.5 % FRAUD', () => {
    for (const kind of ['ordinary', 'ordinary_mobile'] as const) {
      const k = learned.byKind.get(kind);
      expect(k?.n).toBeGreaterThan(5_000);
      expect(share(k?.suspiciousAtClick ?? 0, k?.n ?? 0)).toBeLessThanOrEqual(0.02);
      expect(share(k?.fraudAtClick ?? 0, k?.n ?? 0)).toBeLessThanOrEqual(0.005);
      expect(share(k?.suspicious ?? 0, k?.n ?? 0)).toBeLessThanOrEqual(0.02);
      expect(share(k?.fraud ?? 0, k?.n ?? 0)).toBeLessThanOrEqual(0.005);
    }
  });

  it('catches the never-converting placement once it has hundreds of clicks, and names it with the numbers', () => {
    const mfa = learned.scored
      .filter((s) => learned.truth.get(s.click_id)?.kind === 'mfa_placement')
      .sort((a, b) => (learned.truth.get(a.click_id)?.order ?? 0) - (learned.truth.get(b.click_id)?.order ?? 0));
    expect(mfa.length).toBeGreaterThan(700);
    const late = mfa.slice(650);
    expect(share(late.filter((s) => s.label_at_click !== 'CLEAN').length, late.length)).toBeGreaterThan(0.95);
    const flagged = learned.summary.separation.flagged.get(`placement ${MFA_PLACEMENT}`);
    expect(flagged?.reason).toMatch(/^placement free-coins\.example: 0 conversions in \d+ clicks; property \d\.\d %$/);
    // No ordinary placement is flagged.
    expect([...learned.summary.separation.flagged.keys()].filter((s) => /site\d+\.example/.test(s))).toEqual([]);
  });

  it('scores on a continuous scale: ordinary traffic is not a plateau at 0 once the property has history', () => {
    const ordinary = learned.scored.filter((s) => learned.truth.get(s.click_id)?.kind === 'ordinary');
    const zero = ordinary.filter((s) => s.score_at_click === 0).length;
    expect(share(zero, ordinary.length)).toBeLessThan(0.1);
    expect(new Set(ordinary.map((s) => s.score_at_click)).size).toBeGreaterThan(15);
  });

  it('flags the fraud kinds of the scoring issue', () => {
    const rate = (kind: ClickKind, what: 'suspicious' | 'fraud') =>
      share(learned.byKind.get(kind)?.[what] ?? 0, learned.byKind.get(kind)?.n ?? 0);
    expect(rate('cloud_script', 'fraud')).toBe(1);
    expect(rate('cloud_browser', 'suspicious')).toBe(1);
    expect(rate('click_spam', 'suspicious')).toBeGreaterThan(0.5);
    expect(rate('gclid_replay', 'suspicious')).toBe(1);
  });

  it('ranks never-converting clicks above converting ones far better than the hand rules alone', () => {
    const auc = learned.summary.separation.auc() as number;
    const before = handRulesOnly.separation.auc() as number;
    // Measured 0.637 against 0.525 for the hand rules alone (round 2's engine: 0.547 on the older log).
    expect(before).toBeLessThan(0.55);
    expect(auc).toBeGreaterThan(0.62);
    expect(auc).toBeGreaterThan(before + 0.08);
    // Converting clicks are (almost) all CLEAN: the bands' conversion rates order as the bands do.
    expect(handRulesOnly.separation.flagged.size).toBe(0);
    const bands = learned.summary.separation.bands;
    const rate = (b: { clicks: number; conversions: number }) => b.conversions / Math.max(1, b.clicks);
    expect(rate(bands.CLEAN)).toBeGreaterThan(rate(bands.SUSPICIOUS));
    expect(rate(bands.FRAUD)).toBeLessThan(rate(bands.CLEAN) / 5);
  });
});

/** AUC of `score` for "never converts" (higher = less likely to convert), ties counted half. */
function aucOf(pairs: readonly { score: number; converts: boolean }[]): number {
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  let convertingBelow = 0;
  let wins = 0;
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    let pos = 0;
    let neg = 0;
    while (j < sorted.length && sorted[j]?.score === sorted[i]?.score) {
      if (sorted[j]?.converts) neg++;
      else pos++;
      j++;
    }
    wins += pos * (convertingBelow + neg / 2);
    convertingBelow += neg;
    positives += pos;
    negatives += neg;
    i = j;
  }
  return wins / (positives * negatives);
}

/**
 * The outside figures, reproduced on a network's paid mobile log (shared/backtest/evaluationLog
 * networkLog): the at-click score against a naive causal baseline — a conversion rate per campaign × placement,
 * smoothed towards the rate so far, from the lines before the click only — and against the hand rules alone,
 * as one network property and as one property per advertiser.
 */
describe('a network log: paid mobile clicks, ~0.2 % converting, conversions concentrated by campaign × placement', () => {
  const CLICKS = 60_000;
  type Run = { summary: BacktestSummary; scored: ScoredClick[] };
  const truth = new Map<string, { kind: string; converts: boolean }>();
  let naive = 0;
  let conversionRate = 0;
  const runs = new Map<string, Run>();

  function replay(log: readonly NetworkLine[], config: EngineConfig): Run {
    const scored: ScoredClick[] = [];
    const backtest = new Backtest({ configFor: () => config, intel: bundledIntel() }, (s) => scored.push(s));
    for (const { line } of log) backtest.push(line);
    backtest.finish();
    return { summary: backtest.summary, scored };
  }

  beforeAll(() => {
    // The baseline, computed from the log's lines in order: what it knew of each combination at each click.
    const byCombination = new Map<string, { clicks: number; conversions: number }>();
    const combinationOf = new Map<string, string>();
    let clicks = 0;
    let conversions = 0;
    const baseline: { score: number; converts: boolean }[] = [];
    // Each log is built once: the baseline and both replays of the network property read the same lines.
    const asNetwork = [...networkLog({ clicks: CLICKS, propertyPer: 'network' })];
    for (const { line, truth: t } of asNetwork) {
      if (line.type === 'click' && t !== undefined) {
        truth.set(line.click_id as string, t);
        const key = `${t.campaign}|${t.placement}`;
        const seen = byCombination.get(key) ?? { clicks: 0, conversions: 0 };
        const prior = clicks > 0 ? conversions / clicks : 0;
        baseline.push({ score: -(seen.conversions + 100 * prior) / (seen.clicks + 100), converts: t.converts });
        seen.clicks++;
        clicks++;
        byCombination.set(key, seen);
        combinationOf.set(line.click_id as string, key);
      } else if (line.type === 'conversion') {
        const seen = byCombination.get(combinationOf.get(line.click_id as string) as string);
        if (seen !== undefined) seen.conversions++;
        conversions++;
      }
    }
    naive = aucOf(baseline);
    conversionRate = conversions / clicks;
    const handRules = engineConfigFrom({ ruleWeights: { low_quality_source: 0, repeat_actor: 0 } });
    runs.set('network', replay(asNetwork, engineConfigFrom()));
    runs.set('advertiser', replay([...networkLog({ clicks: CLICKS, propertyPer: 'advertiser' })], engineConfigFrom()));
    runs.set('network, hand rules', replay(asNetwork, handRules));
  }, 1_800_000);

  const auc = (run: string) => runs.get(run)?.summary.separation.auc() as number;

  it('is the log of the issue: ~0.2 % converting, and the naive baseline separates well', () => {
    expect(conversionRate).toBeGreaterThan(0.0015);
    expect(conversionRate).toBeLessThan(0.003);
    // Measured 0.821.
    expect(naive).toBeGreaterThan(0.78);
  });

  it('ranks far above the hand rules and close to the baseline, as one network property and per advertiser', () => {
    // Measured: hand rules 0.514 (network) and 0.502 (per advertiser), near chance as in the issue (0.52);
    // the learned component 0.763 and 0.713 (the engine before per-actor statistics and early ranking: 0.735, 0.481).
    expect(auc('network, hand rules')).toBeLessThan(0.56);
    expect(auc('network')).toBeGreaterThan(0.74);
    expect(auc('advertiser')).toBeGreaterThan(0.69);
    expect(auc('network')).toBeGreaterThan(auc('network, hand rules') + 0.2);
    expect(auc('advertiser')).toBeGreaterThan(auc('network, hand rules') + 0.15);
    expect(auc('network')).toBeGreaterThan(naive - 0.08);
  });

  it('keeps ordinary mobile visitors (carrier NAT and home Wi-Fi) within the false-positive bounds', () => {
    for (const run of ['network', 'advertiser']) {
      const ordinary = (runs.get(run)?.scored ?? []).filter((s) => truth.get(s.click_id)?.kind !== 'tapper');
      expect(ordinary.length).toBeGreaterThan(40_000);
      const flagged = ordinary.filter((s) => s.label_at_click !== 'CLEAN').length;
      const fraud = ordinary.filter((s) => s.label_at_click === 'FRAUD').length;
      expect(share(flagged, ordinary.length)).toBeLessThanOrEqual(0.02);
      expect(share(fraud, ordinary.length)).toBeLessThanOrEqual(0.005);
    }
  });
});
