import { Backtest, type BacktestSummary } from '../../../shared/backtest/backtest';
import { type ClickKind, evaluationLog, MFA_PLACEMENT } from '../../../shared/backtest/evaluationLog';
import type { ScoredClick } from '../../../shared/backtest/logLine';
import { bundledIntel } from '../../../shared/intel/current';
import { type EngineConfig, engineConfigFrom } from '../../../shared/scoring';

/** Runs the backtest over a labelled log and joins every verdict to the click's truth. */
function evaluate(config: EngineConfig, clicks = 30_000) {
  const truth = new Map<string, { kind: ClickKind; converts: boolean; order: number }>();
  const scored: ScoredClick[] = [];
  const backtest = new Backtest({ configFor: () => config, intel: bundledIntel() }, (s) => scored.push(s));
  let order = 0;
  for (const { line, truth: t } of evaluationLog({ clicks, seed: 7, mix: { mfa_placement: 0.03 } })) {
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
    learned = evaluate(engineConfigFrom());
    handRulesOnly = evaluate(engineConfigFrom({ ruleWeights: { low_quality_source: 0, repeat_actor: 0 } })).summary;
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
