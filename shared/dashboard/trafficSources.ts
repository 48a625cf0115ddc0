import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config/env';
import { SOURCE_SHARDS } from '../ingestion/sourceStats';
import { documentClient } from '../storage/clients';

export interface SourceCounts {
  readonly clicks: number;
  readonly conversions: number;
}

export interface TrafficSource extends SourceCounts {
  readonly source: string;
  readonly conversionRate: number;
  /** Not counted per source yet by the source statistics; null until they do. */
  readonly invalidShare: number | null;
}

/** Sources with fewer clicks than this are not ranked: their rates are noise. */
export const MIN_RANKED_CLICKS = 20;
export const TOP_SOURCES = 20;

const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/** Top traffic sources by clicks, with conversion rates, from the property's source counters. */
export function rankSources(counters: Iterable<[string, number]>, limit = TOP_SOURCES) {
  const bySource = new Map<string, { clicks: number; conversions: number }>();
  for (const [name, value] of counters) {
    const kind = name.slice(0, 2);
    if (kind !== 'c:' && kind !== 'v:') continue;
    const source = name.slice(2);
    const stats = bySource.get(source) ?? { clicks: 0, conversions: 0 };
    if (kind === 'c:') stats.clicks += value;
    else stats.conversions += value;
    bySource.set(source, stats);
  }
  const total = bySource.get('*') ?? { clicks: 0, conversions: 0 };
  bySource.delete('*');
  const sources: TrafficSource[] = [...bySource]
    .filter(([, stats]) => stats.clicks >= MIN_RANKED_CLICKS)
    .sort(([a, x], [b, y]) => y.clicks - x.clicks || (a < b ? -1 : 1))
    .slice(0, limit)
    .map(([source, stats]) => ({
      source,
      ...stats,
      conversionRate: rate(stats.conversions, stats.clicks),
      invalidShare: null,
    }));
  return {
    tracksConversions: total.conversions > 0,
    propertyConversionRate: rate(total.conversions, total.clicks),
    sources,
  };
}

/**
 * The property's raw source counters (the `SRC#<propertyId>#<shard>` items of ../ingestion/sourceStats.ts).
 * The one place the dashboard reads source statistics: re-point it when they move or learn invalid shares.
 */
export async function readSourceCounters(propertyId: string): Promise<Array<[string, number]>> {
  const tableName = requireEnv(ENV.tableName);
  const keys = Array.from({ length: SOURCE_SHARDS }, (_, shard) => ({ pk: `SRC#${propertyId}#${shard}`, sk: 'SRC' }));
  const out = await documentClient.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys } } }));
  const counters: Array<[string, number]> = [];
  for (const item of out.Responses?.[tableName] ?? []) {
    for (const [name, value] of Object.entries(item)) if (typeof value === 'number') counters.push([name, value]);
  }
  return counters;
}
