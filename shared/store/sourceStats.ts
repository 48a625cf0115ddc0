import {
  ACTOR_DIMENSIONS,
  PROPERTY_KEY,
  type SourceDelta,
  type SourceQuality,
  type SourceStats,
  SourceTally,
  sourceQualityOf,
  statsKey,
  tallyDeltas,
} from '../scoring/sourceQuality';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from './aws/dynamodb';
import { batchGet } from './batchGet';

/**
 * The learned statistics' storage: per property, clicks and conversions per *statistics key* (a source
 * dimension and a hashed slot, shared/scoring/sourceQuality `statsKey`) plus the property's totals.
 *
 * Bounded by construction: a property has at most DIMENSIONS × SLOTS_PER_DIMENSION keys whatever values
 * clicks carry, each attribute name is 2–6 characters (`c` or `v` + the key), so a shard item stays
 * below ~300 KB even when every slot is in use (DynamoDB's item limit is 400 KB). Attacker-controlled
 * values (a 200-character placement) never reach a key or an attribute name.
 *
 * Clicks FRAUD at click time (the invalid share) are counted apart, in `SRCF#<propertyId>#<shard>` / `SLOTS`
 * (`f` + the key), written only for such clicks and read in the same BatchGet.
 *
 * Kept as SOURCE_SHARDS items `SRCS#<propertyId>#<shard>` / `SLOTS`: `apply(batch)` groups a batch by
 * property and adds to one random shard per property in ONE UpdateItem, so a click's synchronous
 * statistics cost is one write, and an aggregating consumer can apply thousands of clicks in as many writes
 * as properties. Each write refreshes the items' TTL (a property idle for STATS_TTL_SECONDS forgets).
 * Reads are one BatchGet of the shards, summed, cached per container for SOURCE_QUALITY_CACHE_MS and
 * started in parallel with the click's velocity round.
 */
export const SOURCE_SHARDS = 8;
export const SOURCE_QUALITY_CACHE_MS = 5 * 60_000;
const STATS_TTL_SECONDS = 180 * 86_400;
const NAMED_CACHE_LIMIT = 10_000;

/**
 * Counts for one property: clicks (at-click label not FRAUD), trusted conversions and clicks FRAUD at click
 * time (for the invalid share only), per source set.
 */
interface SourceStatsUpdate extends SourceDelta {
  readonly propertyId: string;
}

export interface SourceStatsStore {
  /** Adds a batch of counts: one write per property in the batch. */
  apply(batch: readonly SourceStatsUpdate[], now: number): Promise<void>;
  /**
   * The property's statistics as last read (cached per container: the click path reads them on every click).
   * `fresh` reads them now (the dashboard, which must not show what a click read seconds ago).
   */
  quality(propertyId: string, now: number, options?: { readonly fresh?: boolean }): Promise<SourceQuality>;
  /**
   * The source last seen in each statistics slot (slot key → source key such as `placement:free-coins.example`),
   * so what the statistics flag can be named (Google Ads placement exclusions, the dashboard's top sources).
   * Bounded like the slots; when two sources share a slot, the name is the one seen last.
   */
  sourceNames(propertyId: string, now: number): Promise<Map<string, string>>;
}

/** Longest source value kept by name (Google's placement URLs are far shorter; longer ones are not excludable). */
const MAX_SOURCE_NAME = 250;

/** The slots a batch names: property → slot key → source key (the last one in the batch wins a shared slot). */
function sourcesNamed(batch: readonly SourceStatsUpdate[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const update of batch) {
    for (const source of update.sources) {
      const key = statsKey(source);
      if (key === undefined || source.length > MAX_SOURCE_NAME) continue;
      if (ACTOR_DIMENSIONS.has(source.slice(0, source.indexOf(':')))) continue;
      let names = out.get(update.propertyId);
      if (names === undefined) {
        names = new Map();
        out.set(update.propertyId, names);
      }
      names.set(key, source);
    }
  }
  return out;
}

function byProperty(batch: readonly SourceStatsUpdate[]): Map<string, SourceStatsUpdate[]> {
  const out = new Map<string, SourceStatsUpdate[]>();
  for (const update of batch) {
    const list = out.get(update.propertyId);
    if (list === undefined) out.set(update.propertyId, [update]);
    else list.push(update);
  }
  return out;
}

/** Folds counters `c<key>` / `v<key>` / `f<key>` (key = statistics key or `*`) into the engine's input. */
function qualityFromCounters(counters: Iterable<[string, number]>): SourceQuality {
  const bySlot = new Map<string, { clicks: number; conversions: number; fraud: number }>();
  const total = { clicks: 0, conversions: 0, fraud: 0 };
  for (const [name, value] of counters) {
    const kind = name.charCodeAt(0);
    if ((kind !== 99 && kind !== 118 && kind !== 102) || name.length < 2) continue; // 'c' | 'v' | 'f'
    const key = name.slice(1);
    let stats = key === PROPERTY_KEY ? total : bySlot.get(key);
    if (stats === undefined) {
      stats = { clicks: 0, conversions: 0, fraud: 0 };
      bySlot.set(key, stats);
    }
    if (kind === 99) stats.clicks += value;
    else if (kind === 118) stats.conversions += value;
    else stats.fraud += value;
  }
  return sourceQualityOf(bySlot as ReadonlyMap<string, SourceStats>, total);
}

const shardKey = (propertyId: string, shard: number) => ({ pk: `SRCS#${propertyId}#${shard}`, sk: 'SLOTS' });
/** Clicks FRAUD at click time per slot, apart so a shard item of counts keeps its size bound. */
const fraudShardKey = (propertyId: string, shard: number) => ({ pk: `SRCF#${propertyId}#${shard}`, sk: 'SLOTS' });

export class DynamoSourceStatsStore implements SourceStatsStore {
  private readonly cache = new Map<string, { until: number; value: Promise<SourceQuality> }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Slot names this container wrote, so a busy source is named once, not once per batch. */
  private readonly named = new Map<string, string>();

  async apply(batch: readonly SourceStatsUpdate[], now: number): Promise<void> {
    await Promise.all([
      ...[...byProperty(batch)].map(([propertyId, updates]) => this.add(propertyId, updates, now)),
      this.name(batch, now),
    ]);
  }

  /** One item per named slot (`SRCN#<propertyId>` / slot key): at most DIMENSIONS × SLOTS_PER_DIMENSION per property. */
  private async name(batch: readonly SourceStatsUpdate[], now: number): Promise<void> {
    const expiresAt = Math.floor(now / 1000) + STATS_TTL_SECONDS;
    const puts: Record<string, unknown>[] = [];
    for (const [propertyId, names] of sourcesNamed(batch)) {
      for (const [slot, name] of names) {
        const cacheKey = `${propertyId}#${slot}`;
        if (this.named.get(cacheKey) === name) continue;
        if (this.named.size >= NAMED_CACHE_LIMIT) this.named.clear();
        this.named.set(cacheKey, name);
        puts.push({ pk: `SRCN#${propertyId}`, sk: slot, name, expiresAt });
      }
    }
    for (let i = 0; i < puts.length; i += 25) {
      const chunk = puts.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      let request: Record<string, unknown>[] | undefined = chunk;
      for (let attempt = 0; request && request.length > 0 && attempt < 5; attempt++) {
        const out = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: request as never } }),
        );
        request = out.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined;
      }
    }
  }

  async sourceNames(propertyId: string, now: number): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const nowSec = Math.floor(now / 1000);
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `SRCN#${propertyId}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSec) continue;
        if (typeof item.sk === 'string' && typeof item.name === 'string') names.set(item.sk, item.name);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return names;
  }

  private async add(propertyId: string, updates: readonly SourceDelta[], now: number): Promise<void> {
    const counts: Array<[string, number]> = [];
    const fraud: Array<[string, number]> = [];
    for (const [key, add] of tallyDeltas(updates)) {
      if (add.clicks !== 0) counts.push([`c${key}`, add.clicks]);
      if (add.conversions !== 0) counts.push([`v${key}`, add.conversions]);
      if (add.fraud !== 0) fraud.push([`f${key}`, add.fraud]);
    }
    const shard = Math.floor(Math.random() * SOURCE_SHARDS);
    await Promise.all([
      this.addTo(shardKey(propertyId, shard), counts, now),
      this.addTo(fraudShardKey(propertyId, shard), fraud, now),
    ]);
  }

  private async addTo(key: Record<string, string>, counters: Array<[string, number]>, now: number): Promise<void> {
    if (counters.length === 0) return;
    const names: Record<string, string> = {};
    const values: Record<string, number> = { ':exp': Math.floor(now / 1000) + STATS_TTL_SECONDS };
    const adds = counters.map(([name, n], i) => {
      names[`#k${i}`] = name;
      values[`:n${i}`] = n;
      return `#k${i} :n${i}`;
    });
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `ADD ${adds.join(', ')} SET expiresAt = :exp`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  quality(propertyId: string, now: number, options: { readonly fresh?: boolean } = {}): Promise<SourceQuality> {
    const cached = this.cache.get(propertyId);
    if (!options.fresh && cached && cached.until > now) return cached.value;
    const value = this.read(propertyId, now).catch((error: unknown) => {
      this.cache.delete(propertyId);
      throw error;
    });
    this.cache.set(propertyId, { until: now + SOURCE_QUALITY_CACHE_MS, value });
    return value;
  }

  private async read(propertyId: string, now: number): Promise<SourceQuality> {
    const keys = Array.from({ length: SOURCE_SHARDS }, (_, shard) => [
      shardKey(propertyId, shard),
      fraudShardKey(propertyId, shard),
    ]).flat();
    const counters: Array<[string, number]> = [];
    const nowSec = Math.floor(now / 1000);
    for (const item of await batchGet(this.client, this.tableName, keys, { consistent: false })) {
      if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSec) continue;
      for (const [name, value] of Object.entries(item)) {
        if (name !== 'expiresAt' && typeof value === 'number') counters.push([name, value]);
      }
    }
    return qualityFromCounters(counters);
  }
}

/** Same semantics in Maps: unit tests and the offline tools. */
export class MemorySourceStatsStore implements SourceStatsStore {
  private readonly tallies = new Map<string, SourceTally>();
  private readonly names = new Map<string, Map<string, string>>();

  async apply(batch: readonly SourceStatsUpdate[]): Promise<void> {
    for (const [propertyId, named] of sourcesNamed(batch)) {
      const names = this.names.get(propertyId) ?? new Map<string, string>();
      for (const [slot, name] of named) names.set(slot, name);
      this.names.set(propertyId, names);
    }
    for (const [propertyId, updates] of byProperty(batch)) {
      let tally = this.tallies.get(propertyId);
      if (tally === undefined) {
        tally = new SourceTally();
        this.tallies.set(propertyId, tally);
      }
      tally.apply(updates);
    }
  }

  async quality(propertyId: string): Promise<SourceQuality> {
    return (this.tallies.get(propertyId) ?? new SourceTally()).quality();
  }

  async sourceNames(propertyId: string): Promise<Map<string, string>> {
    return new Map(this.names.get(propertyId) ?? []);
  }

  /** Distinct statistics keys held for a property (bounded by the key space). */
  keys(propertyId: string): number {
    return this.tallies.get(propertyId)?.size ?? 0;
  }
}
