import { learnedEvidence, learnedReason, learnedWeight } from '../scoring/sourceQuality';
import type { SourceStatsStore } from '../store/sourceStats';

/** A display/video placement the engine judges low quality, with the evidence. */
export interface LowQualityPlacement {
  /** As Google reports it in the {placement} ValueTrack parameter (a site, or youtube.com/…). */
  readonly placement: string;
  readonly clicks: number;
  readonly conversions: number;
  readonly reason: string;
}

/** Where low-quality placements come from: the learning issue's source statistics, behind this port. */
export interface PlacementSource {
  lowQualityPlacements(propertyId: string, now: number): Promise<LowQualityPlacement[]>;
}

/** A placement Google Ads takes as `PlacementInfo.url`: a host name, optionally with a path; nothing else. */
const PLACEMENT_URL = /^(?=.{4,250}$)[a-z0-9-]+(\.[a-z0-9-]+)+(\/[\w\-./~%]*)?$/i;
/** At most this many placements are pushed (Google's account-level placement list is far larger). */
export const MAX_PLACEMENT_EXCLUSIONS = 1000;

export const isPlacementUrl = (value: string): boolean => PLACEMENT_URL.test(value);

/** A placement is excluded once its learned weight alone reaches SUSPICIOUS. */
const PLACEMENT_EXCLUSION_WEIGHT = 0.4;

/**
 * Adapter over the learned source statistics: each named placement slot whose learned weight (clicks
 * without the conversions the property's rate predicts) reaches PLACEMENT_EXCLUSION_WEIGHT, with the
 * numbers as its reason.
 */
export function sourceQualityPlacements(
  statistics: Pick<SourceStatsStore, 'quality' | 'sourceNames'>,
): PlacementSource {
  return {
    async lowQualityPlacements(propertyId, now) {
      const [quality, names] = await Promise.all([
        statistics.quality(propertyId, now, { fresh: true }),
        statistics.sourceNames(propertyId, now),
      ]);
      if (!quality.tracksConversions) return [];
      const out: LowQualityPlacement[] = [];
      for (const [slot, source] of names) {
        if (!source.startsWith('placement:')) continue;
        const name = source.slice('placement:'.length);
        const stats = quality.bySlot.get(slot);
        if (!stats || learnedWeight(stats, quality.propertyRate) < PLACEMENT_EXCLUSION_WEIGHT) continue;
        const placement = name.toLowerCase();
        if (!isPlacementUrl(placement)) continue;
        const evidence = learnedEvidence([source], quality);
        out.push({
          placement,
          clicks: stats.clicks,
          conversions: stats.conversions,
          reason: evidence ? learnedReason(evidence) : `placement ${name}`,
        });
      }
      return out
        .sort((a, b) => b.clicks - a.clicks || (a.placement < b.placement ? -1 : 1))
        .slice(0, MAX_PLACEMENT_EXCLUSIONS);
    },
  };
}
