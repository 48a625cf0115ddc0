/**
 * The one DynamoDB table (single-table design). CDK (infra/) and the local stack create it from this
 * definition. Every partition key carries a high-cardinality id (property + something), and counters
 * that a busy property would hammer are sharded, so no partition runs hot at thousands of clicks/s.
 *
 * Items expire through `expiresAt` (epoch seconds, the TTL attribute). DynamoDB deletes expired
 * items late (and the local emulators never do), so every read treats `expiresAt < now` as absent.
 *
 * Key families (pk / sk), every one the service writes (the module that owns a family documents its items; every
 * owner but the rate meter lives in shared/store/, whose index.ts is the composition root):
 *   PROP#<propertyId> / META                      property, config, credential hashes; gsi2 PROPS / <id> (directory)
 *                                                 (shared/store/properties/dynamo.ts)
 *   KEY#<sha256 of credential> / KEY              credential -> property (lookup by hash)
 *   METER#<propertyId>#<shard> / <YYYY-MM-DDTHH>  request meter: hour total + per-minute counts (shared/store/meter.ts)
 *   CLK#<clickId> / CLK                           click record; gsi1 CLKDAY#<propertyId>#<UTC day>#<shard> /
 *                                                 <ISO time>#<clickId>, keys only (shared/store/clicks.ts); under a
 *                                                 gclid's own id (keys.ts gclidClickId) the gclid's first click, or
 *                                                 a marker naming it; `uses` = the duplicate-gclid counter
 *   CNT#<clickId> / CNT                           what the click counter counted of the click (shared/store/counts.ts)
 *   STAT#<propertyId>#<local day>#<shard> / STAT  daily rollups (shared/store/dailyRollup.ts)
 *   IPREP#<propertyId>#<ip> / IPREP               an address's risk, the blocklist's input; gsi2 IPS#<propertyId>#<shard> /
 *                                                 <lastSeen> while risky (shared/store/ipReputation.ts)
 *   VEL#<propertyId>#<family>#<subject> / VEL     in the counters table (COUNTERS_TABLE below): velocity windows of
 *                                                 one counted key: ip (with its campaigns in 8 slots), net (/24 or
 *                                                 /64) (shared/store/velocity/dynamo.ts)
 *   VIS#<propertyId>#<visitorId> / VIS            visitor state and the visitor's velocity windows
 *   GCLID#<propertyId>#<gclid> / GCLID            no longer written: a gclid's first click as deployments before gclid
 *                                                 slots recorded it, read by conversions while it lasts (clicks.ts)
 *   TOKEN#<tokenId> / TOKEN                       the click token's first click; `uses` = the token-replay counter
 *   ORDER#<propertyId>#<orderId> / ORDER          an order id already recorded
 *   CONV#<clickId> / CONV                         the click's conversion
 *   IDEM#<scope>#<key> / IDEM                     exactly-once claims for events and queue messages
 *                                                 (TOKEN# to IDEM#: shared/store/ingestion/)
 *   SRCS#<propertyId>#<shard> / SLOTS             traffic-source statistics (shared/store/sourceStats.ts)
 *   SRCF#<propertyId>#<shard> / SLOTS             the same slots for clicks FRAUD at click time (same file)
 *   SRCN#<propertyId> / <slot key>                the source last seen in a statistics slot (same file)
 *   EXPORT#<exportId> / EXPORT                    an asynchronous CSV export job (shared/store/exportJobs.ts)
 *   GADS#<propertyId> / OWN#… | LOG#… | SUP#…     Google Ads exclusions clicksieve owns, its change log, and values
 *                                                 the advertiser took back (shared/store/exclusionLedger.ts)
 * GSI1 (gsi1pk, gsi1sk) and GSI2 (gsi2pk, gsi2sk) are sparse: only items that set those attributes appear in them.
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

/**
 * The velocity counters' own table: the `VEL#` items (their key family above), nothing else, no index. Counters
 * are the click path's hottest writes (two of its four per click) and worth nothing after their windows: apart,
 * they need no point-in-time recovery or deletion protection, they spend their own table's throughput quota
 * (on-demand tables are capped per table: at thousands of clicks a second the click path alone nears one table's
 * default), and DynamoDB Local, which serialises the writes of one table, runs the two tables' writes side by side.
 */
export const COUNTERS_TABLE = {
  partitionKey: TABLE.partitionKey,
  sortKey: TABLE.sortKey,
  ttlAttribute: TABLE.ttlAttribute,
  indexes: [],
} as const;

/** Epoch seconds for the TTL attribute. */
export const ttlAt = (epochMs: number, lifetimeSeconds: number): number => Math.floor(epochMs / 1000) + lifetimeSeconds;

/** True when an item's TTL has passed: DynamoDB may still return it. */
export const isExpired = (item: { expiresAt?: unknown } | undefined, nowMs: number): boolean =>
  typeof item?.expiresAt === 'number' && item.expiresAt * 1000 <= nowMs;
