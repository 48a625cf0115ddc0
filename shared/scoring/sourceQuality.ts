/**
 * Conversion feedback per traffic source. A scheduled job turns per-source click and conversion
 * counts into a `SourceQuality` snapshot off the hot path; the engine only looks flagged sources up.
 * Rates are smoothed towards the property's overall rate (a Beta prior worth `PRIOR_CLICKS` clicks), so
 * a source with few clicks is never judged on its own noise.
 */
export interface SourceStats {
  readonly clicks: number;
  readonly conversions: number;
}

export interface FlaggedSource {
  readonly weight: number;
  readonly clicks: number;
  readonly conversions: number;
  readonly smoothedRate: number;
}

export interface SourceQuality {
  /** False when the property records (almost) no conversions: absence of conversions then says nothing. */
  readonly tracksConversions: boolean;
  readonly propertyRate: number;
  /** Source key (`campaign:…`, `placement:…`, `network:…`) → why it is low quality. Only flagged ones. */
  readonly flagged: Readonly<Record<string, FlaggedSource>>;
}

export const PRIOR_CLICKS = 50;
/** Below this many conversions in total, a property is treated as not tracking conversions. */
export const MIN_PROPERTY_CONVERSIONS = 10;
/** A source is judged only once it would have been expected to convert this many times. */
export const MIN_EXPECTED_CONVERSIONS = 5;
/** Flagged when its smoothed rate is below this share of the property's rate. */
export const LOW_QUALITY_RATIO = 0.2;
const MAX_WEIGHT = 0.3;

export const EMPTY_SOURCE_QUALITY: SourceQuality = { tracksConversions: false, propertyRate: 0, flagged: {} };

export const smoothedRate = (s: SourceStats, priorRate: number, priorClicks = PRIOR_CLICKS): number =>
  (s.conversions + priorRate * priorClicks) / (s.clicks + priorClicks);

export function sourceQualityFrom(
  bySource: Readonly<Record<string, SourceStats>>,
  property: SourceStats,
): SourceQuality {
  const tracksConversions = property.conversions >= MIN_PROPERTY_CONVERSIONS && property.clicks > 0;
  if (!tracksConversions) return { ...EMPTY_SOURCE_QUALITY };
  const propertyRate = property.conversions / property.clicks;
  const flagged: Record<string, FlaggedSource> = {};
  for (const [source, stats] of Object.entries(bySource)) {
    if (stats.clicks * propertyRate < MIN_EXPECTED_CONVERSIONS) continue;
    const rate = smoothedRate(stats, propertyRate);
    const ratio = rate / propertyRate;
    if (ratio >= LOW_QUALITY_RATIO) continue;
    // The further below the property's rate, the stronger, up to MAX_WEIGHT (never enough alone).
    const weight = MAX_WEIGHT * (1 - ratio / LOW_QUALITY_RATIO) * 0.5 + MAX_WEIGHT * 0.5;
    flagged[source] = { weight, clicks: stats.clicks, conversions: stats.conversions, smoothedRate: rate };
  }
  return { tracksConversions, propertyRate, flagged };
}
