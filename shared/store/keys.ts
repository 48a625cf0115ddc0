import { createHash } from 'node:crypto';
import { fnv1a } from '../fnv1a';
import { CLICK_DAY_SHARDS } from '../model';

export const clickShard = (clickId: string): number => fnv1a(clickId) % CLICK_DAY_SHARDS;

/** `YYYY-MM-DD` of an instant in UTC (the click GSI1 partitions are UTC days). */
const utcDay = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

export const clickKey = (clickId: string) => ({ pk: `CLK#${clickId}`, sk: 'CLK' });

/** The click counter's marker of what it counted of a click (shared/store/counts.ts). */
export const countKey = (clickId: string) => ({ pk: `CNT#${clickId}`, sk: 'CNT' });

/**
 * The gclid's own click id in a property: the first click carrying the gclid is stored under it (without an
 * Idempotency-Key), so storing it is the gclid's first-use check, and a later click finds it by key.
 */
export function gclidClickId(propertyId: string, gclid: string): string {
  const digest = createHash('sha256').update(`${propertyId}\u0000gclid\u0000${gclid}`).digest('base64url');
  return `clk_${digest.slice(0, 27)}`;
}

export const clickDayPartition = (propertyId: string, day: string, shard: number): string =>
  `CLKDAY#${propertyId}#${day}#${shard}`;

export const clickIndexKeys = (propertyId: string, clickId: string, at: number) => ({
  gsi1pk: clickDayPartition(propertyId, utcDay(at), clickShard(clickId)),
  gsi1sk: `${new Date(at).toISOString()}#${clickId}`,
});

/** Every UTC day from the one holding `fromMs` to the one holding `lastMs`, inclusive. */
export function utcDaysBetween(fromMs: number, lastMs: number): string[] {
  const days: string[] = [];
  const dayMs = 86_400_000;
  for (let t = Math.floor(fromMs / dayMs) * dayMs; t <= lastMs; t += dayMs) days.push(utcDay(t));
  return days;
}
