/**
 * The one DynamoDB table (single-table design). CDK (infra/) and the local stack create it from this
 * definition. Every partition key carries a high-cardinality id (property + something), and counters
 * that a busy property would hammer are sharded, so no partition runs hot at thousands of clicks/s.
 *
 * Items expire through `expiresAt` (epoch seconds, the TTL attribute). DynamoDB deletes expired
 * items late (and the local emulators never do), so every read treats `expiresAt < now` as absent.
 *
 * Key families (pk / sk) — each module that owns a family documents its items next to its code:
 *   PROP#<propertyId> / META                      property, config, credential hashes
 *   KEY#<sha256 of credential> / KEY              credential -> property (lookup by hash)
 *   METER#<propertyId>#<shard> / <YYYY-MM-DDTHH>  request meter: hour total + per-minute counts (see http/rateLimit.ts)
 *   CLK#<clickId> / CLK                           click record
 *   VIS#<visitorId> / VIS                         visitor state
 *   VEL#<propertyId>#<counter> / VEL              velocity counters (TTL)
 *   STAT#<propertyId>#<day>#<shard> / ...         daily rollups
 * GSI1 (gsi1pk, gsi1sk) and GSI2 (gsi2pk, gsi2sk) are sparse: only items that set those attributes
 * appear in them (e.g. clicks by property/day/shard for exports, IPs by property for blocklists).
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: [
    // Clicks by property, day and shard: keys only, so a re-score (which changes no key) never writes the
    // index; readers (exports, the click explorer, the rollup check) fetch the clicks by key in batches.
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'KEYS_ONLY' },
    // The property directory and the addresses' records: read whole, written rarely.
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' },
  ],
} as const;

export type IndexName = (typeof TABLE.indexes)[number]['name'];

/** Epoch seconds for the TTL attribute. */
export const ttlAt = (epochMs: number, lifetimeSeconds: number): number => Math.floor(epochMs / 1000) + lifetimeSeconds;

/** True when an item's TTL has passed: DynamoDB may still return it. */
export const isExpired = (item: { expiresAt?: unknown } | undefined, nowMs: number): boolean =>
  typeof item?.expiresAt === 'number' && item.expiresAt * 1000 <= nowMs;
