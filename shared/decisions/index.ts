/**
 * Storage of what the live path decided, as reporting reads it.
 *
 * The live click path calls, per click (one round of parallel writes):
 *   ledger.recordClick(record: ClickRecord, timezone: string): Promise<'stored' | 'duplicate'>
 *       stores the click (conditional: a retried request is stored once) and counts it in the day's rollup,
 *       in one transaction, so a retry can neither double the counts nor lose them;
 *   ipReputation.recordIpOutcome({ propertyId, ip, at, score, reason }): Promise<void>
 *       keeps the address's risk for the blocklist (see ipReputation.ts for the rules).
 * Re-scorers (beacons, conversions) call:
 *   ledger.rescoreClick(clickId, timezone, decide: (click: StoredClick) => Rescore | undefined)
 *       : Promise<RescoreResult | undefined>
 *       reads the click, lets `decide` compute the new outcome, and writes it conditionally on the version read,
 *       moving the click between rollup buckets in the same transaction; retries on a concurrent re-score.
 *       Then recordIpOutcome({ ..., previousScore: result.before.score }) when the score changed.
 * /v1/events calls rollups.recordEvent(propertyId, timezone, at).
 *
 * Lower-level parts, usable alone: ClickStore (putClick, getClick, updateClickOutcome, clicksInRange),
 * RollupStore (recordOutcome, recordEvent, readDays), IpReputationStore (recordIpOutcome, riskyIps).
 * Every part has a DynamoDB implementation and an in-memory one with the same semantics.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config/env';
import type { ClickRecord, Outcome, ReasonEntry } from '../model';
import { dayInZone } from '../reporting/calendar';
import { documentClient } from '../storage/clients';
import {
  type ClickPatch,
  type ClickStore,
  ClickVersionConflictError,
  clickItem,
  clickOutcomeUpdate,
  DynamoClickStore,
  MemoryClickStore,
  type StoredClick,
} from './clickStore';
import {
  DynamoRollupStore,
  MemoryRollupStore,
  type RollupStore,
  randomShard,
  rollupDelta,
  rollupUpdate,
} from './dailyRollup';
import { DynamoIpReputationStore, type IpReputationStore, MemoryIpReputationStore } from './ipReputation';

export * from './clickStore';
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
  recordClick(record: ClickRecord, timezone: string): Promise<'stored' | 'duplicate'>;
  /** Undefined when the click does not exist or `decide` returns undefined (nothing to change). */
  rescoreClick(
    clickId: string,
    timezone: string,
    decide: (click: StoredClick) => Rescore | undefined,
  ): Promise<RescoreResult | undefined>;
}

export interface DecisionStores {
  readonly clicks: ClickStore;
  readonly rollups: RollupStore;
  readonly ipReputation: IpReputationStore;
  readonly ledger: DecisionLedger;
}

const MAX_RESCORE_ATTEMPTS = 8;

/** Shared retry loop: read, decide, write; a version conflict means someone else won, so read again. */
async function rescoreWithRetry(
  clickId: string,
  read: (clickId: string) => Promise<StoredClick | undefined>,
  decide: (click: StoredClick) => Rescore | undefined,
  write: (click: StoredClick, change: Rescore) => Promise<StoredClick>,
): Promise<RescoreResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const click = await read(clickId);
    if (!click) return undefined;
    const change = decide(click);
    if (!change) return undefined;
    try {
      return { before: click.current, click: await write(click, change) };
    } catch (error) {
      if (!(error instanceof ClickVersionConflictError) || attempt >= MAX_RESCORE_ATTEMPTS) throw error;
    }
  }
}

export class DynamoDecisionLedger implements DecisionLedger {
  private readonly clicks: DynamoClickStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.clicks = new DynamoClickStore(client, tableName);
  }

  async recordClick(record: ClickRecord, timezone: string): Promise<'stored' | 'duplicate'> {
    const delta = rollupDelta({ after: record.current, isNewClick: true });
    const day = dayInZone(record.at, timezone);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: clickItem(record),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Update: { TableName: this.tableName, ...rollupUpdate(record.propertyId, day, randomShard(), delta) } },
          ],
        }),
      );
      return 'stored';
    } catch (error) {
      if (cancelledByCondition(error, 0)) return 'duplicate';
      throw error;
    }
  }

  rescoreClick(clickId: string, timezone: string, decide: (click: StoredClick) => Rescore | undefined) {
    return rescoreWithRetry(
      clickId,
      (id) => this.clicks.getClick(id),
      decide,
      async (click, change) => {
        const patch = change.patch ?? {};
        const update = clickOutcomeUpdate(clickId, change.next, change.reasons, patch, click.version);
        const delta = rollupDelta({ before: click.current, after: change.next, isNewClick: false });
        const day = dayInZone(click.at, timezone);
        try {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: { TableName: this.tableName, ...update } },
                ...(delta.size > 0
                  ? [
                      {
                        Update: {
                          TableName: this.tableName,
                          ...rollupUpdate(click.propertyId, day, randomShard(), delta),
                        },
                      },
                    ]
                  : []),
              ],
            }),
          );
        } catch (error) {
          if (cancelledByCondition(error, 0)) throw new ClickVersionConflictError(clickId);
          throw error;
        }
        return { ...click, ...patch, current: change.next, reasons: change.reasons, version: click.version + 1 };
      },
    );
  }
}

function cancelledByCondition(error: unknown, itemIndex: number): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[itemIndex]?.Code === 'ConditionalCheckFailed'
  );
}

export class MemoryDecisionLedger implements DecisionLedger {
  constructor(
    private readonly clicks: MemoryClickStore,
    private readonly rollups: MemoryRollupStore,
  ) {}

  async recordClick(record: ClickRecord, timezone: string): Promise<'stored' | 'duplicate'> {
    const stored = await this.clicks.putClick(record);
    if (stored === 'stored') {
      await this.rollups.recordOutcome({
        propertyId: record.propertyId,
        timezone,
        at: record.at,
        after: record.current,
        isNewClick: true,
      });
    }
    return stored;
  }

  rescoreClick(clickId: string, timezone: string, decide: (click: StoredClick) => Rescore | undefined) {
    return rescoreWithRetry(
      clickId,
      (id) => this.clicks.getClick(id),
      decide,
      async (click, change) => {
        const updated = await this.clicks.updateClickOutcome(
          clickId,
          change.next,
          change.reasons,
          change.patch ?? {},
          click.version,
        );
        await this.rollups.recordOutcome({
          propertyId: click.propertyId,
          timezone,
          at: click.at,
          before: click.current,
          after: change.next,
          isNewClick: false,
        });
        return updated;
      },
    );
  }
}

let defaultStores: DecisionStores | undefined;

/** The DynamoDB stores on the table named by TABLE_NAME, created once per container. */
export function decisionStores(): DecisionStores {
  if (!defaultStores) {
    const tableName = requireEnv(ENV.tableName);
    defaultStores = {
      clicks: new DynamoClickStore(documentClient, tableName),
      rollups: new DynamoRollupStore(documentClient, tableName),
      ipReputation: new DynamoIpReputationStore(documentClient, tableName),
      ledger: new DynamoDecisionLedger(documentClient, tableName),
    };
  }
  return defaultStores;
}

export function memoryDecisionStores(): DecisionStores {
  const clicks = new MemoryClickStore();
  const rollups = new MemoryRollupStore();
  return {
    clicks,
    rollups,
    ipReputation: new MemoryIpReputationStore(),
    ledger: new MemoryDecisionLedger(clicks, rollups),
  };
}
