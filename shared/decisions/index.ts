/**
 * Storage of what the live path decided, as reporting reads it.
 *
 * The live click path calls, per click (one round of parallel writes):
 *   ledger.recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'>
 *       stores the click, one conditional PutItem (a retried request is stored once). Nothing else: the
 *       daily rollups and the blocklist's address records are moved off the request path by the click
 *       counter (shared/ingestion/counting.ts), which compares each click with what it counted of it
 *       (counts.ts) and moves rollups and markers in one transaction per batch.
 * Re-scorers (beacons, conversions) call:
 *   ledger.rescoreClick(clickId, decide: (click: StoredClick) => Rescore | undefined)
 *       : Promise<RescoreResult | undefined>
 *       reads the click, lets `decide` compute the new outcome (undefined: already applied, nothing to do),
 *       and writes it with ONE UpdateItem conditional on the version read — that condition is also the
 *       exactly-once guard: a redelivery re-reads, finds the change applied, and writes nothing.
 * /v1/events calls rollups.recordEvent(propertyId, timezone, at).
 *
 * Lower-level parts, usable alone: ClickStore (putClick, getClick, getClicks, updateClickOutcome,
 * clicksInRange), RollupStore (recordOutcome, recordEvent, readDays), IpReputationStore (recordIpOutcome,
 * riskyIps), CountLedger (counted, count). Every part has a DynamoDB implementation and an in-memory one
 * with the same semantics.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config/env';
import type { ClickRecord, Outcome, ReasonEntry } from '../model';
import { documentClient } from '../storage/clients';
import {
  type ClickPatch,
  type ClickStore,
  ClickVersionConflictError,
  DynamoClickStore,
  MemoryClickStore,
  type StoredClick,
} from './clickStore';
import { type CountLedger, DynamoCountLedger, MemoryCountLedger } from './counts';
import { DynamoRollupStore, MemoryRollupStore, type RollupStore } from './dailyRollup';
import { DynamoIpReputationStore, type IpReputationStore, MemoryIpReputationStore } from './ipReputation';

export * from './clickStore';
export * from './counts';
export * from './dailyRollup';
export * from './ipReputation';
export { clickShard, utcDay } from './keys';
export { mergeSorted, prefetchedPages } from './sortedMerge';

export interface Rescore {
  readonly next: Outcome;
  readonly reasons: readonly ReasonEntry[];
  readonly patch?: ClickPatch;
}

export interface RescoreResult {
  readonly before: Outcome;
  readonly click: StoredClick;
}

export interface DecisionLedger {
  /** The click alone, once: `duplicate` when a click with its id is stored already. */
  recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'>;
  /** Undefined when the click does not exist or `decide` returns undefined (nothing to change). */
  rescoreClick(
    clickId: string,
    decide: (click: StoredClick) => Rescore | undefined,
  ): Promise<RescoreResult | undefined>;
}

export interface DecisionStores {
  readonly clicks: ClickStore;
  readonly rollups: RollupStore;
  readonly ipReputation: IpReputationStore;
  readonly ledger: DecisionLedger;
  readonly counts: CountLedger;
}

const MAX_RESCORE_ATTEMPTS = 8;

/** Read, decide, one conditional write; a version conflict means someone else won, so read again. */
async function rescoreWithRetry(
  clicks: ClickStore,
  clickId: string,
  decide: (click: StoredClick) => Rescore | undefined,
): Promise<RescoreResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const click = await clicks.getClick(clickId);
    if (!click) return undefined;
    const change = decide(click);
    if (!change) return undefined;
    try {
      const updated = await clicks.updateClickOutcome(
        clickId,
        change.next,
        change.reasons,
        change.patch ?? {},
        click.version,
      );
      return { before: click.current, click: updated };
    } catch (error) {
      if (!(error instanceof ClickVersionConflictError) || attempt >= MAX_RESCORE_ATTEMPTS) throw error;
    }
  }
}

/** The ledger on any click store: the click is one item, a re-score one conditional write. */
export class ClickLedger implements DecisionLedger {
  constructor(private readonly clicks: ClickStore) {}

  recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'> {
    return this.clicks.putClick(record, expiresAt);
  }

  rescoreClick(clickId: string, decide: (click: StoredClick) => Rescore | undefined) {
    return rescoreWithRetry(this.clicks, clickId, decide);
  }
}

let defaultStores: DecisionStores | undefined;

/** The DynamoDB stores on the table named by TABLE_NAME, created once per container. */
export function decisionStores(): DecisionStores {
  defaultStores ??= dynamoDecisionStores(documentClient, requireEnv(ENV.tableName));
  return defaultStores;
}

/** The DynamoDB stores on one client and table (bench, tests). */
export function dynamoDecisionStores(client: DynamoDBDocumentClient, tableName: string): DecisionStores {
  const clicks = new DynamoClickStore(client, tableName);
  return {
    clicks,
    rollups: new DynamoRollupStore(client, tableName),
    ipReputation: new DynamoIpReputationStore(client, tableName),
    ledger: new ClickLedger(clicks),
    counts: new DynamoCountLedger(client, tableName),
  };
}

export function memoryDecisionStores(): DecisionStores & { readonly rollups: MemoryRollupStore } {
  const clicks = new MemoryClickStore();
  const rollups = new MemoryRollupStore();
  return {
    clicks,
    rollups,
    ipReputation: new MemoryIpReputationStore(),
    ledger: new ClickLedger(clicks),
    counts: new MemoryCountLedger(rollups),
  };
}
