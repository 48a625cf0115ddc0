/**
 * Whether judging a click as the first of each counted key, and storing it beside its counting, pays on this
 * property (shared/ingestion/clicks.ts). It does while the counts rarely change what a first click stores: the
 * click then takes one round instead of two. Where they often do (shared carrier /24s, repeat visitors: 40–70 %
 * of the clicks in the backtest's labelled and network logs), every such click would pay a correcting write and a
 * second count message on top of its two rounds, so the click is stored after its counts instead.
 *
 * Each container keeps, per property, a moving share of its recent clicks whose counts changed what a first click
 * stores — learnt from every click, whichever path it took (judging a click twice is ~12 µs of CPU) — and
 * speculates while that share is at most MAX_CORRECTED: the correcting writes then cost at most that share of a
 * write per click.
 */
export const MAX_CORRECTED = 0.1;
/** Weight of one click in the moving share: ~the last 32 clicks of the property in this container. */
const WEIGHT = 1 / 32;
/** Properties remembered per container (least recently used dropped). */
const PROPERTIES = 1_000;

export class CorrectionShare {
  private readonly shares = new Map<string, number>();

  /** True while the property's recent share of corrected clicks is at most MAX_CORRECTED (or unknown). */
  speculate(propertyId: string): boolean {
    return (this.shares.get(propertyId) ?? 0) <= MAX_CORRECTED;
  }

  /** One click of the property: whether its counts changed what its first-click judgement would store. */
  record(propertyId: string, corrected: boolean): void {
    const share = this.shares.get(propertyId) ?? 0;
    this.shares.delete(propertyId);
    this.shares.set(propertyId, share + WEIGHT * ((corrected ? 1 : 0) - share));
    if (this.shares.size > PROPERTIES) this.shares.delete(this.shares.keys().next().value as string);
  }
}
