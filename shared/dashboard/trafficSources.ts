import {
  learnedEvidence,
  learnedReason,
  RANK_WEIGHT,
  type SourceQuality,
  type SourceStats,
} from '../scoring/sourceQuality';
import { sourceStatsStore } from '../store';
import type { SourceStatsStore } from '../store/sourceStats';

interface SourceCounts {
  readonly clicks: number;
  readonly conversions: number;
}

interface TrafficSource extends SourceCounts {
  readonly source: string;
  readonly conversionRate: number;
  /**
   * Share of the source's clicks judged FRAUD at click time: fraud ÷ (clicks + fraud). `clicks` and
   * `conversions` are the learned statistics' (clicks not FRAUD at click time, under the per-address cap).
   */
  readonly invalidShare: number | null;
  /**
   * The learned component's reason when this source alone counts against its clicks (beyond the ranking term
   * every source with history gets), else null.
   */
  readonly learned: string | null;
}

/** Sources with fewer clicks than this are not ranked: their rates are noise. */
export const MIN_RANKED_CLICKS = 20;
const TOP_SOURCES = 20;

const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/** Every click of a source the statistics saw: counted ones and those FRAUD at click time. */
const total = (stats: SourceStats): number => stats.clicks + (stats.fraud ?? 0);

/**
 * Top traffic sources by clicks (FRAUD ones included), with conversion rates and the learned evidence, from the property's learned
 * statistics (slot → counts) and the names of their slots (slot → source key).
 */
export function rankSources(quality: SourceQuality, names: ReadonlyMap<string, string>, limit = TOP_SOURCES) {
  const sources: TrafficSource[] = [...names]
    .flatMap(([slot, source]) => {
      const stats = quality.bySlot.get(slot);
      return stats && total(stats) >= MIN_RANKED_CLICKS ? [{ source, stats }] : [];
    })
    .sort((a, b) => total(b.stats) - total(a.stats) || (a.source < b.source ? -1 : 1))
    .slice(0, limit)
    .map(({ source, stats }) => {
      const evidence = learnedEvidence([source], quality);
      return {
        source,
        clicks: stats.clicks,
        conversions: stats.conversions,
        conversionRate: rate(stats.conversions, stats.clicks),
        invalidShare: rate(stats.fraud ?? 0, total(stats)),
        learned: evidence !== undefined && evidence.weight > RANK_WEIGHT ? learnedReason(evidence) : null,
      };
    });
  return {
    tracksConversions: quality.tracksConversions,
    propertyConversionRate: rate(quality.property.conversions, quality.property.clicks),
    sources,
  };
}

/** The property's learned statistics and slot names: the one place the dashboard reads source statistics. */
export async function trafficSources(propertyId: string, now: number, store?: SourceStatsStore) {
  const source = store ?? sourceStatsStore();
  const [quality, names] = await Promise.all([
    source.quality(propertyId, now, { fresh: true }),
    source.sourceNames(propertyId, now),
  ]);
  return rankSources(quality, names);
}
