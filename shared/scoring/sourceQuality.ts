/**
 * The learned component: what each property's own trusted outcomes say about its traffic sources and its
 * repeated actors.
 *
 * Statistics are clicks and conversions per *statistics key*: a dimension (campaign, ad group, keyword,
 * placement, network, device, campaign × placement, and the repeat level of the click's address, /24 or /64
 * and visitor — see actorKeys) and a slot, the value hashed into SLOTS_PER_DIMENSION buckets. The key space
 * is therefore fixed (at most DIMENSIONS × SLOTS_PER_DIMENSION keys per property) whatever values clicks
 * carry: an attacker sending millions of distinct placements fills slots, never grows an item. The reason
 * names the click's own value, so no names are stored.
 *
 * A key's rate is smoothed towards the property's rate (a Beta prior worth PRIOR_CLICKS clicks, the
 * empirical-Bayes shrinkage), and how surprising its conversions are is measured by the Poisson tail
 * bound: with λ = clicks × property rate expected conversions and k observed (k < λ), the chance of so few
 * is at most exp(−(λ − k + k ln(k/λ))). The weight is the larger of two terms, both monotone (up with
 * clicks, down with conversions):
 *  - evidence:  MAX_WEIGHT × (1 − smoothed/property) × min(1, surprise in decades / FULL_EVIDENCE_DECADES),
 *    which lets overwhelming evidence decide: 650 clicks without a conversion where the property converts
 *    at 3.8 % is surprise 10⁻¹⁰·⁷ and weight ≈ 0.56, SUSPICIOUS on its own (never FRAUD on its own);
 *  - ranking:   RANK_WEIGHT × 1 / (1 + (smoothed/property ÷ RANK_RATIO)²) × clicks / (clicks + RANK_CLICKS),
 *    at most 0.15 (never a flag by itself), so every key with some history places its clicks on a
 *    continuous scale: a source at the property's rate scores ~3, one at half of it ~8, one at twice ~1; the
 *    click's keys taken together (the product r of their smoothed ratios, naive Bayes) on the gentler
 *    RANK_WEIGHT / (1 + r / RANK_RATIO), which keeps clicks apart across the whole range of combinations.
 *    The ranking term starts at the property's first trusted conversion (MIN_RANKING_CONVERSIONS), the
 *    evidence term at MIN_PROPERTY_CONVERSIONS.
 *
 * Pure and cheap: a snapshot precomputes every slot's weight once (sourceQualityOf); a decision hashes at
 * most ten values and reads as many array cells.
 */

import { fnv1a } from '../fnv1a';

export interface SourceStats {
  readonly clicks: number;
  readonly conversions: number;
  /** Clicks judged FRAUD at click time (never in `clicks`: they teach nothing): the source's invalid share. */
  readonly fraud?: number;
}

/** Dimensions with the one-letter tag their statistics keys carry. */
export const DIMENSIONS = {
  campaign: 'c',
  adgroup: 'a',
  keyword: 'k',
  placement: 'p',
  network: 'n',
  device: 'd',
  'campaign+placement': 'x',
  'address-repeat': 'r',
  'subnet-repeat': 's',
  'visitor-repeat': 'u',
} as const;
type Dimension = keyof typeof DIMENSIONS;
/** Repeated-actor dimensions: learned like sources, but never named or ranked as traffic sources. */
export const ACTOR_DIMENSIONS: ReadonlySet<string> = new Set(['address-repeat', 'subnet-repeat', 'visitor-repeat']);
export const SLOTS_PER_DIMENSION = 2048;
const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];
const DIMENSION_INDEX = new Map<string, number>(DIMENSION_NAMES.map((name, i) => [name, i]));
const TAG_INDEX = new Map<string, number>(DIMENSION_NAMES.map((name, i) => [DIMENSIONS[name], i]));

/** The property's statistics as known at one moment (cached read in the service, snapshot in the backtest). */
export interface SourceQuality {
  /** False when the property records (almost) no trusted conversions: absence of conversions then says nothing. */
  readonly tracksConversions: boolean;
  /**
   * True from the property's first trusted conversion: the ranking term (never a flag) orders clicks by their
   * sources' smoothed rates; the evidence term waits for tracksConversions.
   */
  readonly ranks: boolean;
  readonly propertyRate: number;
  readonly property: SourceStats;
  /** Statistics key (statsKey) → counts. */
  readonly bySlot: ReadonlyMap<string, SourceStats>;
  /** learnedWeight of every slot, by slotIndex (0 where nothing is known): one array read per decision. */
  readonly weights: Float64Array;
  /** Smoothed rate ÷ property rate of every slot, by slotIndex (0 where nothing is known, read as 1). */
  readonly ratios: Float64Array;
  /** The counts of every slot, by slotIndex: the reason's numbers without building the statistics key. */
  readonly counts: readonly (SourceStats | undefined)[];
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

const PRIOR_CLICKS = 50;
/** Below this many trusted conversions in total, a property is treated as not tracking conversions. */
const MIN_PROPERTY_CONVERSIONS = 10;
/** From this many trusted conversions the ranking term orders clicks (a converting source below, a silent one above). */
const MIN_RANKING_CONVERSIONS = 1;
/** The learned component alone reaches SUSPICIOUS (≥ 0.4), never FRAUD (≥ 0.7). */
const MAX_WEIGHT = 0.6;
/** A one-in-a-million shortfall is full evidence. */
const FULL_EVIDENCE_DECADES = 6;
/** The ranking term's ceiling: a continuous score for ordinary traffic, never a flag by itself. */
export const RANK_WEIGHT = 0.15;
/** The ranking term is half its ceiling at this share of the property's rate. */
const RANK_RATIO = 0.5;
/** The ranking term is half-trusted after this many clicks. */
const RANK_CLICKS = 200;

export const EMPTY_SOURCE_QUALITY: SourceQuality = {
  tracksConversions: false,
  ranks: false,
  propertyRate: 0,
  property: { clicks: 0, conversions: 0 },
  bySlot: new Map(),
  weights: new Float64Array(0),
  ratios: new Float64Array(0),
  counts: [],
};

export const smoothedRate = (s: SourceStats, priorRate: number, priorClicks = PRIOR_CLICKS): number =>
  (s.conversions + priorRate * priorClicks) / (s.clicks + priorClicks);

/** The slot of a source key as one number (dimension × SLOTS_PER_DIMENSION + slot), or −1. */
function slotIndex(source: string): number {
  const colon = source.indexOf(':');
  if (colon < 0) return -1;
  const dimension = DIMENSION_INDEX.get(source.slice(0, colon));
  if (dimension === undefined) return -1;
  return dimension * SLOTS_PER_DIMENSION + (fnv1a(source, colon + 1) % SLOTS_PER_DIMENSION);
}

/**
 * The bounded statistics key of a source key (`placement:free-coins.example` → `p1kq`), or undefined for a
 * source of no known dimension.
 */
export function statsKey(source: string): string | undefined {
  const index = slotIndex(source);
  if (index < 0) return undefined;
  const dimension = DIMENSION_NAMES[Math.floor(index / SLOTS_PER_DIMENSION)] as Dimension;
  return DIMENSIONS[dimension] + (index % SLOTS_PER_DIMENSION).toString(36);
}

/** statsKey back to slotIndex (−1 for a key of no known dimension). */
function indexOfKey(key: string): number {
  const dimension = TAG_INDEX.get(key.charAt(0));
  const slot = Number.parseInt(key.slice(1), 36);
  if (dimension === undefined || !(slot >= 0 && slot < SLOTS_PER_DIMENSION)) return -1;
  return dimension * SLOTS_PER_DIMENSION + slot;
}

/** −log10 of the Poisson tail bound P(X ≤ k | λ); 0 when k ≥ λ. Monotone: up in λ, down in k. */
export function surpriseDecades(conversions: number, expected: number): number {
  if (conversions >= expected || expected <= 0) return 0;
  const k = conversions;
  const nats = expected - k + (k > 0 ? k * Math.log(k / expected) : 0);
  return nats / Math.LN10;
}

/** The ranking term's shape: 1 / (1 + (ratio ÷ RANK_RATIO)²) of RANK_WEIGHT. */
function rankWeight(ratio: number): number {
  const q = ratio / RANK_RATIO;
  return RANK_WEIGHT / (1 + q * q);
}

/** The ranking term alone of one key's counts (at most RANK_WEIGHT): all a property with few conversions gets. */
function rankTerm(stats: SourceStats, propertyRate: number): number {
  if (propertyRate <= 0 || stats.clicks <= 0) return 0;
  const conversions = Math.min(stats.conversions, stats.clicks);
  const ratio = (conversions + propertyRate * PRIOR_CLICKS) / (stats.clicks + PRIOR_CLICKS) / propertyRate;
  return rankWeight(ratio) * (stats.clicks / (stats.clicks + RANK_CLICKS));
}

/** learnedWeight once the property tracks conversions, else the ranking term alone. */
export const weightFor = (stats: SourceStats, quality: SourceQuality): number =>
  quality.tracksConversions ? learnedWeight(stats, quality.propertyRate) : rankTerm(stats, quality.propertyRate);

/** The learned weight of one key's counts against the property's rate (see the module comment). */
export function learnedWeight(stats: SourceStats, propertyRate: number): number {
  if (propertyRate <= 0 || stats.clicks <= 0) return 0;
  const conversions = Math.min(stats.conversions, stats.clicks);
  const ratio = smoothedRate({ clicks: stats.clicks, conversions }, propertyRate) / propertyRate;
  const rank = rankWeight(ratio) * (stats.clicks / (stats.clicks + RANK_CLICKS));
  if (ratio >= 1) return rank;
  const surprise = surpriseDecades(conversions, stats.clicks * propertyRate);
  const evidence = MAX_WEIGHT * (1 - ratio) * Math.min(1, surprise / FULL_EVIDENCE_DECADES);
  return Math.max(evidence, rank);
}

export function sourceQualityOf(bySlot: ReadonlyMap<string, SourceStats>, property: SourceStats): SourceQuality {
  const tracksConversions = property.conversions >= MIN_PROPERTY_CONVERSIONS && property.clicks > 0;
  const ranks = property.conversions >= MIN_RANKING_CONVERSIONS && property.clicks > 0;
  const propertyRate = ranks ? property.conversions / property.clicks : 0;
  const size = ranks ? DIMENSION_NAMES.length * SLOTS_PER_DIMENSION : 0;
  const weights = new Float64Array(size);
  const ratios = new Float64Array(size);
  const counts: (SourceStats | undefined)[] = new Array(size).fill(undefined);
  if (ranks) {
    for (const [key, stats] of bySlot) {
      const index = indexOfKey(key);
      if (index < 0) continue;
      counts[index] = stats;
      weights[index] = tracksConversions ? learnedWeight(stats, propertyRate) : rankTerm(stats, propertyRate);
      ratios[index] = smoothedRate(stats, propertyRate) / propertyRate;
    }
  }
  return { tracksConversions, ranks, propertyRate, property, bySlot, weights, ratios, counts };
}

/** The strongest evidence among a click's sources (and actor keys), or undefined when none says anything. */
export function learnedEvidence(sources: readonly string[], quality: SourceQuality): LearnedEvidence | undefined {
  if (!quality.ranks) return undefined;
  let best = -1;
  let bestIndex = -1;
  let bestWeight = 0;
  let ratio = 1;
  for (let i = 0; i < sources.length; i++) {
    const index = slotIndex(sources[i] as string);
    if (index < 0) continue;
    const weight = quality.weights[index] as number;
    if (weight > bestWeight) {
      bestWeight = weight;
      best = i;
      bestIndex = index;
    }
    const r = quality.ratios[index] as number;
    if (r > 0) ratio *= r;
  }
  if (best < 0) return undefined;
  // Ranking: the sources' smoothed ratios taken together (naive Bayes), never above the ranking ceiling.
  const together = RANK_WEIGHT / (1 + ratio / RANK_RATIO);
  if (together > bestWeight) bestWeight = together;
  const source = sources[best] as string;
  const stats = quality.counts[bestIndex] as SourceStats;
  return {
    source,
    weight: bestWeight,
    clicks: stats.clicks,
    conversions: stats.conversions,
    smoothedRate: smoothedRate(stats, quality.propertyRate),
    propertyRate: quality.propertyRate,
    surpriseDecades: surpriseDecades(stats.conversions, stats.clicks * quality.propertyRate),
  };
}

/**
 * One individual actor's evidence (`address:203.0.113.7`, `subnet:203.0.113.0/24`, `visitor:vis_…`) from the
 * counts its own item keeps: clicks before this one and trusted conversions, smoothed towards the property's
 * rate exactly as a source's. Undefined while the property tracks no conversions or the actor has no history.
 */
export function actorEvidence(
  actor: string,
  clicks: number,
  conversions: number,
  quality: SourceQuality,
): LearnedEvidence | undefined {
  if (!quality.ranks || clicks <= 0) return undefined;
  const stats = { clicks, conversions: Math.min(conversions, clicks) };
  const rate = quality.propertyRate;
  return {
    source: actor,
    weight: weightFor(stats, quality),
    clicks,
    conversions: stats.conversions,
    smoothedRate: smoothedRate(stats, rate),
    propertyRate: rate,
    surpriseDecades: surpriseDecades(stats.conversions, clicks * rate),
  };
}

const percent = (rate: number): string => `${(100 * rate).toFixed(rate < 0.01 ? 2 : 1)} %`;

/**
 * "placement free-coins.example: 0 conversions in 650 clicks; property 3.8 %", or for a repeated actor
 * "address-repeat 4-5 clicks a day: 0 conversions in 320 clicks; property 3.8 %" (the statistics of every
 * click at that repeat level, this property's).
 */
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
  /** Clicks judged FRAUD at click time: counted apart, for the source's invalid share only. */
  readonly fraud?: number;
}

/** The property total's key next to the statistics keys. */
export const PROPERTY_KEY = '*';

interface Counts {
  clicks: number;
  conversions: number;
  fraud: number;
}

/** Sums deltas per statistics key (PROPERTY_KEY for the property's totals): what one write adds. */
export function tallyDeltas(deltas: readonly SourceDelta[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  const add = (key: string, delta: SourceDelta) => {
    const found = out.get(key);
    if (found === undefined)
      out.set(key, { clicks: delta.clicks, conversions: delta.conversions, fraud: delta.fraud ?? 0 });
    else {
      found.clicks += delta.clicks;
      found.conversions += delta.conversions;
      found.fraud += delta.fraud ?? 0;
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
  private readonly bySlot = new Map<string, Counts>();
  private readonly total: Counts = { clicks: 0, conversions: 0, fraud: 0 };

  apply(deltas: readonly SourceDelta[]): void {
    for (const [key, add] of tallyDeltas(deltas)) {
      const into = key === PROPERTY_KEY ? this.total : this.slot(key);
      into.clicks += add.clicks;
      into.conversions += add.conversions;
      into.fraud += add.fraud;
    }
  }

  private slot(key: string): Counts {
    let found = this.bySlot.get(key);
    if (found === undefined) {
      found = { clicks: 0, conversions: 0, fraud: 0 };
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
    for (const [key, stats] of this.bySlot) copy.set(key, { ...stats });
    return sourceQualityOf(copy, { ...this.total });
  }
}
