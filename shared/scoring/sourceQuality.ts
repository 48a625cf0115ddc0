/**
 * The learned component: what each property's own trusted outcomes say about its traffic sources.
 *
 * Statistics are clicks and conversions per *statistics key*: a source dimension (campaign, ad group,
 * keyword, placement, network, device, campaign × placement) and a slot, the source's value hashed into
 * SLOTS_PER_DIMENSION buckets. The key space is therefore fixed (at most DIMENSIONS × SLOTS_PER_DIMENSION
 * keys per property) whatever values clicks carry: an attacker sending millions of distinct placements
 * fills slots, never grows an item. The reason names the click's own value, so no names are stored.
 *
 * A source's rate is smoothed towards the property's rate (a Beta prior worth PRIOR_CLICKS clicks, the
 * empirical-Bayes shrinkage), and how surprising its conversions are is measured by the Poisson tail
 * bound: with λ = clicks × property rate expected conversions and k observed (k < λ), the chance of so few
 * is at most exp(−(λ − k + k ln(k/λ))). The weight is
 *     MAX_WEIGHT × (1 − smoothed rate / property rate) × min(1, surprise in decades / FULL_EVIDENCE_DECADES)
 * — 0 with no evidence, rising continuously and monotonically with clicks and falling with conversions.
 * 650 clicks without a conversion where the property converts at 3.8 % is surprise 10⁻¹⁰·⁷ and weight ≈ 0.56:
 * SUSPICIOUS on its own (never FRAUD on its own: the click may still be a human).
 *
 * Pure and cheap: a decision hashes at most seven values and reads seven map entries.
 */
export interface SourceStats {
  readonly clicks: number;
  readonly conversions: number;
}

/** Source dimensions with the one-letter tag their statistics keys carry. */
export const DIMENSIONS = {
  campaign: 'c',
  adgroup: 'a',
  keyword: 'k',
  placement: 'p',
  network: 'n',
  device: 'd',
  'campaign+placement': 'x',
} as const;
export type Dimension = keyof typeof DIMENSIONS;
export const SLOTS_PER_DIMENSION = 2048;

/** The property's statistics as known at one moment (cached read in the service, snapshot in the backtest). */
export interface SourceQuality {
  /** False when the property records (almost) no trusted conversions: absence of conversions then says nothing. */
  readonly tracksConversions: boolean;
  readonly propertyRate: number;
  readonly property: SourceStats;
  /** Statistics key (statsKey) → counts. */
  readonly bySlot: ReadonlyMap<string, SourceStats>;
}

export interface LearnedEvidence {
  readonly source: string;
  readonly weight: number;
  readonly clicks: number;
  readonly conversions: number;
  readonly smoothedRate: number;
  readonly propertyRate: number;
  /** −log10 of the Poisson tail bound: 10 = "one chance in 10¹⁰". */
  readonly surpriseDecades: number;
}

export const PRIOR_CLICKS = 50;
/** Below this many trusted conversions in total, a property is treated as not tracking conversions. */
export const MIN_PROPERTY_CONVERSIONS = 10;
/** The learned component alone reaches SUSPICIOUS (≥ 0.4), never FRAUD (≥ 0.7). */
export const MAX_WEIGHT = 0.6;
/** A one-in-a-million shortfall is full evidence. */
export const FULL_EVIDENCE_DECADES = 6;

export const EMPTY_SOURCE_QUALITY: SourceQuality = {
  tracksConversions: false,
  propertyRate: 0,
  property: { clicks: 0, conversions: 0 },
  bySlot: new Map(),
};

export const smoothedRate = (s: SourceStats, priorRate: number, priorClicks = PRIOR_CLICKS): number =>
  (s.conversions + priorRate * priorClicks) / (s.clicks + priorClicks);

/** FNV-1a, 32 bit: cheap, stable across processes (service and backtest hash alike). */
function fnv1a(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The bounded statistics key of a source key (`placement:free-coins.example` → `p1kq`), or undefined for a
 * source of no known dimension.
 */
export function statsKey(source: string): string | undefined {
  const colon = source.indexOf(':');
  if (colon < 0) return undefined;
  const tag = (DIMENSIONS as Record<string, string>)[source.slice(0, colon)];
  if (tag === undefined) return undefined;
  return tag + (fnv1a(source.slice(colon + 1)) % SLOTS_PER_DIMENSION).toString(36);
}

/** −log10 of the Poisson tail bound P(X ≤ k | λ); 0 when k ≥ λ. Monotone: up in λ, down in k. */
export function surpriseDecades(conversions: number, expected: number): number {
  if (conversions >= expected || expected <= 0) return 0;
  const k = conversions;
  const nats = expected - k + (k > 0 ? k * Math.log(k / expected) : 0);
  return nats / Math.LN10;
}

/** The learned weight of one source's counts against the property's rate (0 when it converts as expected). */
export function learnedWeight(stats: SourceStats, propertyRate: number): number {
  if (propertyRate <= 0 || stats.clicks <= 0) return 0;
  const conversions = Math.min(stats.conversions, stats.clicks);
  const ratio = smoothedRate({ clicks: stats.clicks, conversions }, propertyRate) / propertyRate;
  if (ratio >= 1) return 0;
  const surprise = surpriseDecades(conversions, stats.clicks * propertyRate);
  return MAX_WEIGHT * (1 - ratio) * Math.min(1, surprise / FULL_EVIDENCE_DECADES);
}

export function sourceQualityOf(bySlot: ReadonlyMap<string, SourceStats>, property: SourceStats): SourceQuality {
  const tracksConversions = property.conversions >= MIN_PROPERTY_CONVERSIONS && property.clicks > 0;
  return {
    tracksConversions,
    propertyRate: tracksConversions ? property.conversions / property.clicks : 0,
    property,
    bySlot,
  };
}

/** The strongest evidence among a click's sources, or undefined when none says anything. */
export function learnedEvidence(sources: readonly string[], quality: SourceQuality): LearnedEvidence | undefined {
  if (!quality.tracksConversions) return undefined;
  let best: LearnedEvidence | undefined;
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i] as string;
    const key = statsKey(source);
    const stats = key === undefined ? undefined : quality.bySlot.get(key);
    if (stats === undefined) continue;
    const weight = learnedWeight(stats, quality.propertyRate);
    if (weight <= 0 || (best !== undefined && weight <= best.weight)) continue;
    best = {
      source,
      weight,
      clicks: stats.clicks,
      conversions: stats.conversions,
      smoothedRate: smoothedRate(stats, quality.propertyRate),
      propertyRate: quality.propertyRate,
      surpriseDecades: surpriseDecades(stats.conversions, stats.clicks * quality.propertyRate),
    };
  }
  return best;
}

const percent = (rate: number): string => `${(100 * rate).toFixed(rate < 0.01 ? 2 : 1)} %`;

/** "placement free-coins.example: 0 conversions in 650 clicks; property 3.8 %" */
export function learnedReason(evidence: LearnedEvidence): string {
  const colon = evidence.source.indexOf(':');
  const dimension = evidence.source.slice(0, colon);
  const value = evidence.source.slice(colon + 1, colon + 1 + 80);
  return (
    `${dimension} ${value}: ${evidence.conversions} conversions in ${evidence.clicks} clicks; ` +
    `property ${percent(evidence.propertyRate)}`
  );
}

/** Counts to add for one or more clicks sharing the same sources (the unit of `apply(batch)`). */
export interface SourceDelta {
  readonly sources: readonly string[];
  readonly clicks: number;
  readonly conversions: number;
}

/** The property total's key next to the statistics keys. */
export const PROPERTY_KEY = '*';

/** Sums deltas per statistics key (PROPERTY_KEY for the property's totals): what one write adds. */
export function tallyDeltas(deltas: readonly SourceDelta[]): Map<string, { clicks: number; conversions: number }> {
  const out = new Map<string, { clicks: number; conversions: number }>();
  const add = (key: string, delta: SourceDelta) => {
    const found = out.get(key);
    if (found === undefined) out.set(key, { clicks: delta.clicks, conversions: delta.conversions });
    else {
      found.clicks += delta.clicks;
      found.conversions += delta.conversions;
    }
  };
  for (const delta of deltas) {
    add(PROPERTY_KEY, delta);
    const seen = new Set<string>();
    for (const source of delta.sources) {
      const key = statsKey(source);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      add(key, delta);
    }
  }
  return out;
}

/** One property's statistics in memory (memory store, backtest): bounded by the statistics key space. */
export class SourceTally {
  private readonly bySlot = new Map<string, { clicks: number; conversions: number }>();
  private readonly total = { clicks: 0, conversions: 0 };

  apply(deltas: readonly SourceDelta[]): void {
    for (const [key, add] of tallyDeltas(deltas)) {
      const into = key === PROPERTY_KEY ? this.total : this.slot(key);
      into.clicks += add.clicks;
      into.conversions += add.conversions;
    }
  }

  private slot(key: string): { clicks: number; conversions: number } {
    let found = this.bySlot.get(key);
    if (found === undefined) {
      found = { clicks: 0, conversions: 0 };
      this.bySlot.set(key, found);
    }
    return found;
  }

  get size(): number {
    return this.bySlot.size;
  }

  /** An immutable copy: what a reader would see now. */
  quality(): SourceQuality {
    const copy = new Map<string, SourceStats>();
    for (const [key, stats] of this.bySlot) copy.set(key, { clicks: stats.clicks, conversions: stats.conversions });
    return sourceQualityOf(copy, { ...this.total });
  }
}
