import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  EMPTY_SOURCE_QUALITY,
  type SourceQuality,
  type SourceStats,
  sourceQualityFrom,
} from '../scoring/sourceQuality';

/**
 * Traffic-source conversion feedback: per property, clicks and conversions per source key
 * (`campaign:…`, `placement:…`, `network:…`, the keys the engine's facts use), plus the property's totals.
 *
 * Kept as SOURCE_SHARDS sharded items `SRC#<propertyId>#<shard>` / `SRC`, one number attribute per
 * counter (`c:<source>`, `v:<source>`, `c:*`, `v:*`): a click adds to one random shard in a single
 * UpdateItem, so a busy property spreads its writes. The engine's SourceQuality is computed on read —
 * one BatchGet of the shards, summed — and cached per container for SOURCE_QUALITY_CACHE_MS, started in
 * parallel with the click's velocity round so it never adds a sequential round trip.
 * Sizing: ~40 bytes per source and counter; a shard item holds thousands of sources (400 KB item limit).
 */
export const SOURCE_SHARDS = 8;
export const SOURCE_QUALITY_CACHE_MS = 5 * 60_000;

export interface SourceStatsStore {
  count(propertyId: string, sources: readonly string[], what: 'click' | 'conversion'): Promise<void>;
  quality(propertyId: string, now: number): Promise<SourceQuality>;
}

/** Folds counters `c:<source>` / `v:<source>` into the engine's input. */
export function qualityFromCounters(counters: Iterable<[string, number]>): SourceQuality {
  const bySource: Record<string, { clicks: number; conversions: number }> = {};
  let total: SourceStats = { clicks: 0, conversions: 0 };
  for (const [name, value] of counters) {
    const kind = name.slice(0, 2);
    const source = name.slice(2);
    if (kind !== 'c:' && kind !== 'v:') continue;
    if (source === '*') {
      total =
        kind === 'c:'
          ? { ...total, clicks: total.clicks + value }
          : { ...total, conversions: total.conversions + value };
      continue;
    }
    const stats = bySource[source] ?? { clicks: 0, conversions: 0 };
    bySource[source] = stats;
    if (kind === 'c:') stats.clicks += value;
    else stats.conversions += value;
  }
  return total.clicks === 0 ? EMPTY_SOURCE_QUALITY : sourceQualityFrom(bySource, total);
}

const sourceKey = (propertyId: string, shard: number) => ({ pk: `SRC#${propertyId}#${shard}`, sk: 'SRC' });

export class DynamoSourceStatsStore implements SourceStatsStore {
  private readonly cache = new Map<string, { until: number; value: Promise<SourceQuality> }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async count(propertyId: string, sources: readonly string[], what: 'click' | 'conversion'): Promise<void> {
    const prefix = what === 'click' ? 'c:' : 'v:';
    const names: Record<string, string> = { '#t': `${prefix}*` };
    const adds = ['#t :one'];
    sources.forEach((source, i) => {
      names[`#s${i}`] = prefix + source;
      adds.push(`#s${i} :one`);
    });
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: sourceKey(propertyId, Math.floor(Math.random() * SOURCE_SHARDS)),
        UpdateExpression: `ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  quality(propertyId: string, now: number): Promise<SourceQuality> {
    const cached = this.cache.get(propertyId);
    if (cached && cached.until > now) return cached.value;
    const value = this.read(propertyId).catch((error: unknown) => {
      this.cache.delete(propertyId);
      throw error;
    });
    this.cache.set(propertyId, { until: now + SOURCE_QUALITY_CACHE_MS, value });
    return value;
  }

  private async read(propertyId: string): Promise<SourceQuality> {
    const keys = Array.from({ length: SOURCE_SHARDS }, (_, shard) => sourceKey(propertyId, shard));
    const out = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
    const counters: Array<[string, number]> = [];
    for (const item of out.Responses?.[this.tableName] ?? []) {
      for (const [name, value] of Object.entries(item)) if (typeof value === 'number') counters.push([name, value]);
    }
    return qualityFromCounters(counters);
  }
}

export class MemorySourceStatsStore implements SourceStatsStore {
  private readonly counters = new Map<string, Map<string, number>>();

  async count(propertyId: string, sources: readonly string[], what: 'click' | 'conversion'): Promise<void> {
    const prefix = what === 'click' ? 'c:' : 'v:';
    const counters = this.counters.get(propertyId) ?? new Map<string, number>();
    for (const name of [`${prefix}*`, ...sources.map((s) => prefix + s)])
      counters.set(name, (counters.get(name) ?? 0) + 1);
    this.counters.set(propertyId, counters);
  }

  async quality(propertyId: string): Promise<SourceQuality> {
    return qualityFromCounters(this.counters.get(propertyId) ?? new Map());
  }
}
