import type { BotLevel } from '../model';
import type { RollupCounts } from '../store/dailyRollup';

const TOP_RULES = 10;

/** A share as a percentage string with one decimal: 0.024 → "2.4%"; nothing counted → "0.0%". */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0.0%';
  return `${(Math.round((part / whole) * 1000) / 10).toFixed(1)}%`;
}

/** Rules by count, highest first (ties by name so the order is stable); rules that netted to zero dropped. */
export function topRules(
  rules: Readonly<Record<string, number>>,
  limit = TOP_RULES,
): { rule: string; count: number }[] {
  return Object.entries(rules)
    .filter(([, count]) => count > 0)
    .sort(([ruleA, a], [ruleB, b]) => b - a || (ruleA < ruleB ? -1 : 1))
    .slice(0, limit)
    .map(([rule, count]) => ({ rule, count }));
}

/**
 * The ClickDefender-shaped stats. `totalDecisions` counts scored clicks; `totalEvents` counts everything
 * received: /v1/events calls plus scored clicks. Bands are each click's current (latest) verdict.
 */
export function propertyStats(counts: RollupCounts) {
  return {
    totalEvents: counts.events + counts.clicks,
    totalDecisions: counts.clicks,
    cleanCount: counts.labels.CLEAN,
    suspiciousCount: counts.labels.SUSPICIOUS,
    fraudCount: counts.labels.FRAUD,
    fraudRate: formatPercent(counts.labels.FRAUD, counts.clicks),
    topRules: topRules(counts.rules),
  };
}

/** A click counts as a bot from bot level `medium` up (score ≥ 40, the SUSPICIOUS band), as in the verdict route. */
export const isBotLevel = (level: BotLevel): boolean => level !== 'low';

/** The captcha.la-shaped bot stats; `bot_rate` is a fraction of `total` (0–1, four decimals). */
export function botStats(from: string, to: string, counts: RollupCounts) {
  const bots = counts.levels.medium + counts.levels.high + counts.levels.critical;
  return {
    code: 0 as const,
    data: {
      from,
      to,
      total: counts.clicks,
      bots,
      bot_rate: counts.clicks > 0 ? Math.round((bots / counts.clicks) * 10_000) / 10_000 : 0,
      by_action: { ...counts.botActions },
      by_level: { ...counts.levels },
    },
  };
}
