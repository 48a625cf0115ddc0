import type { Label } from '../model';
import type { Signal } from '../scoring';

/** A learned signal at least this strong (alone SUSPICIOUS) names its source among the flagged ones. */
export const FLAGGED_WEIGHT = 0.4;
/** Flagged sources kept for the report: the memory bound whatever the log holds. */
export const FLAGGED_SOURCES_KEPT = 1000;

export interface BandFigures {
  clicks: number;
  conversions: number;
}

export interface FlaggedSourceFigures {
  /** Clicks of this source the learned component flagged at click time. */
  clicks: number;
  /** Of those, the ones that converted after all. */
  conversions: number;
  /** The latest reason, with its numbers. */
  reason: string;
}

/**
 * What a user needs before enforcing: how well the at-click score ranks never-converting clicks above
 * converting ones (AUC, ties counted half), the conversion rate per band and per score decile, and the
 * sources the learned component flagged. Memory is fixed: two 101-bin histograms (scores are integers
 * 0–100) and at most FLAGGED_SOURCES_KEPT sources.
 */
export class Separation {
  readonly converting = new Float64Array(101);
  readonly nonConverting = new Float64Array(101);
  readonly bands: Record<Label, BandFigures> = {
    CLEAN: { clicks: 0, conversions: 0 },
    SUSPICIOUS: { clicks: 0, conversions: 0 },
    FRAUD: { clicks: 0, conversions: 0 },
  };
  readonly flagged = new Map<string, FlaggedSourceFigures>();
  flaggedDropped = 0;

  add(
    atClick: { readonly score: number; readonly label: Label },
    converted: boolean,
    learned: Signal | undefined,
  ): void {
    const score = Math.max(0, Math.min(100, Math.round(atClick.score)));
    const histogram = converted ? this.converting : this.nonConverting;
    histogram[score] = (histogram[score] ?? 0) + 1;
    const band = this.bands[atClick.label];
    band.clicks++;
    if (converted) band.conversions++;
    if (learned === undefined || learned.weight < FLAGGED_WEIGHT) return;
    const colon = learned.details.indexOf(':');
    const source = colon < 0 ? learned.details : learned.details.slice(0, colon);
    let figures = this.flagged.get(source);
    if (figures === undefined) {
      if (this.flagged.size >= FLAGGED_SOURCES_KEPT) {
        this.flaggedDropped++;
        return;
      }
      figures = { clicks: 0, conversions: 0, reason: learned.details };
      this.flagged.set(source, figures);
    }
    figures.clicks++;
    if (converted) figures.conversions++;
    figures.reason = learned.details;
  }

  /** Clicks per 10-point score range (0–9 … 90–100) with their conversions. */
  deciles(): BandFigures[] {
    const out = Array.from({ length: 10 }, () => ({ clicks: 0, conversions: 0 }));
    for (let score = 0; score <= 100; score++) {
      const d = out[Math.min(9, Math.floor(score / 10))] as BandFigures;
      d.clicks += (this.converting[score] ?? 0) + (this.nonConverting[score] ?? 0);
      d.conversions += this.converting[score] ?? 0;
    }
    return out;
  }

  /**
   * P(score of a never-converting click > score of a converting one), ties counted half; undefined when
   * either class is empty.
   */
  auc(): number | undefined {
    let positives = 0;
    let negatives = 0;
    for (let s = 0; s <= 100; s++) {
      positives += this.nonConverting[s] ?? 0;
      negatives += this.converting[s] ?? 0;
    }
    if (positives === 0 || negatives === 0) return undefined;
    let convertingBelow = 0;
    let wins = 0;
    for (let s = 0; s <= 100; s++) {
      const pos = this.nonConverting[s] ?? 0;
      const neg = this.converting[s] ?? 0;
      wins += pos * (convertingBelow + neg / 2);
      convertingBelow += neg;
    }
    return wins / (positives * negatives);
  }

  toJSON() {
    return {
      auc: this.auc(),
      bands: this.bands,
      deciles: this.deciles(),
      flagged: Object.fromEntries(this.flagged),
      flaggedDropped: this.flaggedDropped,
    };
  }
}
