/**
 * The store: every key family of the table and of the counters table (table.ts lists them), each with its
 * interface, its DynamoDB implementation and its in-memory twin, and the composition root that wires them.
 *
 * Deployed functions take their stores from the accessors below: each store is created once per container, on
 * the shared document client (clients.ts) and the tables named by TABLE_NAME and COUNTERS_TABLE_NAME (the velocity
 * counters, reached through the ingestion store), and only when first used (the
 * accessors are pure, so a function's bundle carries only the stores it reaches). Tests and the
 * bench build the click path's stores on their own client with `dynamoClickPathStores(client, tableName)`, and
 * the in-memory twin of every store with `memoryStores()`.
 *
 * The property directory (propertyDirectory.ts) reads the table through the property index and is imported
 * directly by the few functions that list properties.
 */

import { ENV, requireEnv } from '../config/env';
import type { PropertyStore } from '../properties/model';
import type { DynamoDBDocumentClient } from './aws/dynamodb';
import type { ClickStores } from './clickLedger';
import { VersionedClickLedger } from './clickLedger';
import { DynamoClickStore, MemoryClickStore } from './clicks';
import { documentClient } from './clients';
import { DynamoCountLedger, MemoryCountLedger } from './counts';
import { DynamoRollupStore, MemoryRollupStore } from './dailyRollup';
import { DynamoExclusionLedger, type ExclusionLedger, MemoryExclusionLedger } from './exclusionLedger';
import { DynamoExportJobStore, type ExportJobStore } from './exportJobs';
import { DynamoIngestionStore } from './ingestion/dynamo';
import { MemoryIngestionStore } from './ingestion/memory';
import type { IngestionStore } from './ingestion/store';
import { DynamoIpReputationStore, MemoryIpReputationStore } from './ipReputation';
import { DynamoPropertyStore } from './properties/dynamo';
import { MemoryPropertyStore } from './properties/memory';
import { DynamoSourceStatsStore, MemorySourceStatsStore, type SourceStatsStore } from './sourceStats';

export * from './clickLedger';
export * from './clicks';
export * from './counts';
export * from './dailyRollup';
export * from './ipReputation';
export { clickShard } from './keys';
export { mergeSorted, prefetchedPages } from './sortedMerge';

/** Every store the service keeps, one per key family (export jobs only exist on DynamoDB). */
interface Stores {
  readonly clicks: ClickStores;
  readonly ingestion: IngestionStore;
  readonly sources: SourceStatsStore;
  readonly properties: PropertyStore;
  readonly exclusions: ExclusionLedger;
}

/** The click stores on one client and table. */
function dynamoClickStores(client: DynamoDBDocumentClient, tableName: string): ClickStores {
  const clicks = new DynamoClickStore(client, tableName);
  return {
    clicks,
    rollups: new DynamoRollupStore(client, tableName),
    ipReputation: new DynamoIpReputationStore(client, tableName),
    ledger: new VersionedClickLedger(clicks),
    counts: new DynamoCountLedger(client, tableName),
  };
}

export function memoryClickStores(): ClickStores & { readonly rollups: MemoryRollupStore } {
  const rollups = new MemoryRollupStore();
  const counts = new MemoryCountLedger(rollups);
  const clicks = new MemoryClickStore((clickId) => counts.has(clickId));
  return {
    clicks,
    rollups,
    ipReputation: new MemoryIpReputationStore(),
    ledger: new VersionedClickLedger(clicks),
    counts,
  };
}

/** The stores the click path writes, on one client and table (bench, tests); no more, to keep its bundle small. */
export function dynamoClickPathStores(
  client: DynamoDBDocumentClient,
  tableName: string,
  now: () => number = Date.now,
  countersTableName?: string,
): Pick<Stores, 'clicks' | 'ingestion' | 'sources'> {
  return {
    clicks: dynamoClickStores(client, tableName),
    ingestion: new DynamoIngestionStore(client, tableName, now, countersTableName),
    sources: new DynamoSourceStatsStore(client, tableName),
  };
}

export type MemoryStores = ReturnType<typeof memoryStores>;

/** The in-memory twin of every store, with the same semantics (unit tests). */
export function memoryStores(now: () => number = Date.now) {
  return {
    clicks: memoryClickStores(),
    ingestion: new MemoryIngestionStore(now),
    sources: new MemorySourceStatsStore(),
    properties: new MemoryPropertyStore(),
    exclusions: new MemoryExclusionLedger(),
  } satisfies Stores;
}

/** A store made on first use, on the shared client and the table named by TABLE_NAME, then kept. */
function perContainer<T>(make: (client: DynamoDBDocumentClient, tableName: string) => T): () => T {
  let made: T | undefined;
  return () => {
    made ??= make(documentClient, requireEnv(ENV.tableName));
    return made;
  };
}

export const clickStores = /* @__PURE__ */ perContainer(dynamoClickStores);
export const ingestionStore = /* @__PURE__ */ perContainer(
  (client, tableName): IngestionStore =>
    new DynamoIngestionStore(client, tableName, Date.now, requireEnv(ENV.countersTableName)),
);
export const sourceStatsStore = /* @__PURE__ */ perContainer(
  (client, tableName): SourceStatsStore => new DynamoSourceStatsStore(client, tableName),
);
export const propertyStore = /* @__PURE__ */ perContainer(
  (client, tableName): PropertyStore => new DynamoPropertyStore(client, tableName),
);
export const exclusionLedger = /* @__PURE__ */ perContainer(
  (client, tableName): ExclusionLedger => new DynamoExclusionLedger(client, tableName),
);
export const exportJobStore = /* @__PURE__ */ perContainer(
  (client, tableName): ExportJobStore => new DynamoExportJobStore(client, tableName),
);
