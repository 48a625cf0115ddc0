import type { SourceQuality } from '../scoring/sourceQuality';

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

/** Adapter over today's SourceQuality (`placement:<value>` keys of the flagged sources). */
export function sourceQualityPlacements(
  quality: (propertyId: string, now: number) => Promise<SourceQuality>,
): PlacementSource {
  return {
    async lowQualityPlacements(propertyId, now) {
      const snapshot = await quality(propertyId, now);
      return Object.entries(snapshot.flagged)
        .filter(([key]) => key.startsWith('placement:'))
        .map(([key, flagged]) => ({
          placement: key.slice('placement:'.length).toLowerCase(),
          clicks: flagged.clicks,
          conversions: flagged.conversions,
          reason: `low quality: ${flagged.conversions} conversions from ${flagged.clicks} clicks (property rate ${(snapshot.propertyRate * 100).toFixed(1)}%)`,
        }))
        .filter((p) => isPlacementUrl(p.placement))
        .sort((a, b) => b.clicks - a.clicks || (a.placement < b.placement ? -1 : 1))
        .slice(0, MAX_PLACEMENT_EXCLUSIONS);
    },
  };
}
