import type { Label } from '../model';
import type { RollupCounts } from '../store/dailyRollup';

/** What the conversion side counts; also sent with every answer so the dashboard can say it. */
const CALIBRATION_BASIS =
  'clicks by their at-click verdict (band, score decile, each rule that fired), and of them those with a trusted ' +
  'conversion (the webhook, or a conversion event sent with the secret key), counted in the day of the click. ' +
  'Conversions claimed with the public key are not counted.';

interface ConversionFigures {
  readonly clicks: number;
  readonly conversions: number;
  /** conversions / clicks, 0–1 (four decimals); null without clicks. */
  readonly conversionRate: number | null;
}

const BANDS: readonly Label[] = ['CLEAN', 'SUSPICIOUS', 'FRAUD'];

const withRate = (clicks: number, conversions: number): ConversionFigures => ({
  clicks,
  conversions,
  conversionRate: clicks > 0 ? Math.round((conversions / clicks) * 10_000) / 10_000 : null,
});

function figures(counts: RollupCounts, key: string): ConversionFigures {
  const clicks = Math.max(0, counts.atClick[key] ?? 0);
  return withRate(clicks, Math.max(0, Math.min(clicks, counts.converted[key] ?? 0)));
}

/**
 * The per-band conversion rates of a range, from its summed rollups: how the at-click verdicts turned out,
 * the evidence to set thresholds and rule weights by (the backtest's figures, from the property's own traffic).
 * Rules are those that fired at click time, most clicks first.
 */
export function calibration(counts: RollupCounts) {
  const bands = BANDS.map((band) => ({ band, ...figures(counts, `band:${band}`) }));
  const rules = Object.keys(counts.atClick)
    .filter((key) => key.startsWith('rule:'))
    .map((key) => ({ rule: key.slice('rule:'.length), ...figures(counts, key) }))
    .filter((rule) => rule.clicks > 0)
    .sort((a, b) => b.clicks - a.clicks || (a.rule < b.rule ? -1 : 1));
  return {
    basis: CALIBRATION_BASIS,
    total: withRate(
      bands.reduce((sum, band) => sum + band.clicks, 0),
      bands.reduce((sum, band) => sum + band.conversions, 0),
    ),
    bands,
    deciles: Array.from({ length: 10 }, (_, d) => ({
      fromScore: d * 10,
      toScore: d === 9 ? 100 : d * 10 + 9,
      ...figures(counts, `decile:${d}`),
    })),
    rules,
  };
}
