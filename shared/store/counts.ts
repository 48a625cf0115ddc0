import type { Outcome } from '../model';
import { dayInZone } from '../reporting/calendar';
import { type DynamoDBDocumentClient, TransactionCanceledException, TransactWriteCommand } from './aws/dynamodb';
import { batchGet } from './batchGet';
import { type MemoryRollupStore, randomShard, rollupDelta, rollupUpdate } from './dailyRollup';
import { countKey } from './keys';

/**
 * What the click counter (the aggregating consumer) has counted of each click:
 * `CNT#<clickId>` / `CNT` with `version` (the click version counted) and `outcome` (the outcome counted),
 * TTL `expiresAt` = the click's. Moving a click's marker and adding its rollup delta happen in one
 * transaction per batch, conditional on the marker read, so a redelivered or concurrent batch can neither
 * count a click twice nor lose a re-score: counting is state-based (the click as stored now against what
 * was counted), not a replay of deltas.
 */
export interface CountedOutcome {
  readonly version: number;
  readonly outcome: Outcome;
  /** A trusted conversion of the click was counted (the calibration counters). */
  readonly converted?: true;
}

export interface CountChange {
  readonly clickId: string;
  readonly propertyId: string;
  readonly timezone: string;
  /** When the click happened: its day takes the counts. */
  readonly at: number;
  /** What was counted before (absent: a click not counted yet). */
  readonly counted?: CountedOutcome;
  /** The click as stored now. */
  readonly now: CountedOutcome;
  /** The click's at-click outcome (the calibration counters' keys); without it they are not counted. */
  readonly atClick?: Outcome;
  /** The click's TTL (epoch seconds): the marker lives as long as the click. */
  readonly expiresAt?: number;
}

/** Another counter moved one of these markers since they were read: read again (the batch is retried). */
export class CountConflictError extends Error {
  constructor() {
    super('a click was counted concurrently; retry the batch');
    this.name = 'CountConflictError';
  }
}

export interface CountLedger {
  counted(clickIds: readonly string[]): Promise<Map<string, CountedOutcome>>;
  /** Atomically: every marker moves from `counted` to `now`, and the daily rollups move by the difference. */
  count(changes: readonly CountChange[]): Promise<void>;
}

/** Groups the changes' rollup deltas by property and local day. */
function deltasByDay(changes: readonly CountChange[]) {
  const days = new Map<string, { propertyId: string; day: string; delta: Map<string, number> }>();
  for (const change of changes) {
    const day = dayInZone(change.at, change.timezone);
    const key = `${change.propertyId}#${day}`;
    let entry = days.get(key);
    if (!entry) {
      entry = { propertyId: change.propertyId, day, delta: new Map() };
      days.set(key, entry);
    }
    const delta = rollupDelta({
      before: change.counted?.outcome,
      after: change.now.outcome,
      isNewClick: change.counted === undefined,
      atClick: change.atClick,
      converts: change.now.converted === true && change.counted?.converted !== true,
    });
    for (const [name, amount] of delta) entry.delta.set(name, (entry.delta.get(name) ?? 0) + amount);
  }
  for (const [key, entry] of days) {
    for (const [name, amount] of entry.delta) if (amount === 0) entry.delta.delete(name);
    if (entry.delta.size === 0) days.delete(key);
  }
  return [...days.values()];
}

/** Markers per transaction: with one rollup item per property-day, well inside DynamoDB's 100 items. */
const CHANGES_PER_TRANSACTION = 40;

export class DynamoCountLedger implements CountLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async counted(clickIds: readonly string[]): Promise<Map<string, CountedOutcome>> {
    const found = new Map<string, CountedOutcome>();
    const ids = [...new Set(clickIds)];
    for (const item of await batchGet(this.client, this.tableName, ids.map(countKey), { consistent: true })) {
      found.set(String(item.pk).slice('CNT#'.length), {
        version: Number(item.version),
        outcome: item.outcome as Outcome,
        converted: item.converted === true ? true : undefined,
      });
    }
    return found;
  }

  async count(changes: readonly CountChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i += CHANGES_PER_TRANSACTION) {
      const part = changes.slice(i, i + CHANGES_PER_TRANSACTION);
      const markers = part.map((change) => ({
        Put: {
          TableName: this.tableName,
          Item: {
            ...countKey(change.clickId),
            version: change.now.version,
            outcome: change.now.outcome,
            converted: change.now.converted,
            expiresAt: change.expiresAt,
          },
          ...(change.counted
            ? {
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': change.counted.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        },
      }));
      const rollups = deltasByDay(part).map(({ propertyId, day, delta }) => ({
        Update: { TableName: this.tableName, ...rollupUpdate(propertyId, day, randomShard(), delta) },
      }));
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [...markers, ...rollups] }));
      } catch (error) {
        if (
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.some((reason) => reason.Code === 'ConditionalCheckFailed')
        ) {
          throw new CountConflictError();
        }
        throw error;
      }
    }
  }
}

/** Markers in a Map and rollups in the memory rollup store: unit tests and the backtest. */
export class MemoryCountLedger implements CountLedger {
  private readonly markers = new Map<string, CountedOutcome>();

  constructor(private readonly rollups: MemoryRollupStore) {}

  /** The click counter counted the click (a marker exists). */
  has(clickId: string): boolean {
    return this.markers.has(clickId);
  }

  async counted(clickIds: readonly string[]): Promise<Map<string, CountedOutcome>> {
    const found = new Map<string, CountedOutcome>();
    for (const id of clickIds) {
      const marker = this.markers.get(id);
      if (marker) found.set(id, structuredClone(marker));
    }
    return found;
  }

  async count(changes: readonly CountChange[]): Promise<void> {
    for (const change of changes) {
      if (this.markers.get(change.clickId)?.version !== change.counted?.version) throw new CountConflictError();
    }
    for (const change of changes) this.markers.set(change.clickId, structuredClone(change.now));
    for (const { propertyId, day, delta } of deltasByDay(changes)) this.rollups.apply(propertyId, day, delta);
  }
}
