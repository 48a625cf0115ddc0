import { isDeepStrictEqual } from 'node:util';
import { CLICK_DAY_SHARDS, type ClickRecord, type Outcome, type ReasonEntry } from '../model';
import { definedOnly } from '../optional';
import { parseValueTrack } from '../scoring/facts';
import type { ClickSignals } from '../scoring/scoreClick';
import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from './aws/dynamodb';
import { BATCH_GET_MAX, batchGet } from './batchGet';
import { clickDayPartition, clickIndexKeys, clickKey, countKey, gclidClickId, utcDaysBetween } from './keys';
import { mergeSorted, prefetchedPages } from './sortedMerge';
import { isExpired } from './table';

/**
 * Click records: `CLK#<clickId>` / `CLK`, in GSI1 under `CLKDAY#<propertyId>#<UTC day>#<shard>` sorted by
 * `<ISO time>#<clickId>` (see shared/model.ts). `version` starts at 1 and grows with every re-score, so two
 * re-scorers of one click cannot overwrite each other.
 *
 * A gclid's slot is the click item under the gclid's own id (keys.ts gclidClickId): the first click carrying
 * the gclid is stored there, so the click's one conditional PutItem is also the gclid's first-use check and
 * no other item is written for it. Later uses ADD `uses` to the slot's item (the duplicate-gclid counter: the
 * gclid's uses are `uses`, plus one for the click stored in the slot). A first use that is not stored in the
 * slot (a click with an Idempotency-Key keeps its own id) leaves a marker there instead: `firstClickId`,
 * `uses` and the TTL, no click, so reads of clicks never return it.
 */
export interface StoredClick extends ClickRecord {
  readonly version: number;
  /** TTL (epoch seconds): the property's retention from the click's time; reads treat a passed one as absent. */
  readonly expiresAt?: number;
}

/** Fields a re-score may set beside the outcome. */
export interface ClickPatch {
  /** The at-click outcome: set only when the click path corrects the verdict it stored before its counts came back. */
  readonly atClick?: Outcome;
  readonly beaconAt?: number;
  readonly convertedAt?: number;
  readonly signals?: ClickSignals;
}

/** Someone else re-scored the click since it was read: read again and recompute. */
export class ClickVersionConflictError extends Error {
  constructor(readonly clickId: string) {
    super(`click ${clickId} changed since it was read`);
    this.name = 'ClickVersionConflictError';
  }
}

export interface ClickStore {
  /** Stores a new click once (TTL `expiresAt`, epoch s): a retried request answers `duplicate` and changes nothing. */
  putClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'>;
  getClick(clickId: string): Promise<StoredClick | undefined>;
  /** Several clicks by id, strongly consistent (the click counter); absent ones are missing from the map. */
  getClicks(clickIds: readonly string[]): Promise<Map<string, StoredClick>>;
  /** Sets the current outcome if the click is still at `expectedVersion`; throws ClickVersionConflictError otherwise. */
  updateClickOutcome(
    clickId: string,
    next: Outcome,
    reasons: readonly ReasonEntry[],
    patch: ClickPatch,
    expectedVersion: number,
  ): Promise<StoredClick>;
  /**
   * Deletes a click its own request stored and then refused (5xx): only while it is as stored (version 1, no
   * re-score or correction since), no later use of its gclid was counted on it, and the click counter has not
   * counted it — so stats and exports still hold the same clicks. False when it stays.
   */
  discardClick(clickId: string, at: number): Promise<boolean>;
  /** Every click of the property with `fromMs <= at < toMs`, once each, in time order (ties by click id). */
  clicksInRange(propertyId: string, fromMs: number, toMs: number): AsyncIterable<StoredClick>;
  /**
   * One more use of a gclid by a click not stored in the gclid's slot: returns the gclid's uses, this one included.
   * `marker` (a click with an id of its own, which may be the first use) is left in a slot still empty, naming the
   * click, until `keepUntil` (epoch s); without it (the slot's put found it taken) an existing slot only counts the
   * use. A slot past its TTL, or gone, counts the use as the first and keeps nothing.
   */
  countGclidUse(
    propertyId: string,
    gclid: string,
    marker: { readonly clickId: string; readonly keepUntil: number } | undefined,
    now: number,
  ): Promise<number>;
  /** The gclid's first click in the property, while its slot is kept: the slot's click, or the one its marker names. */
  findClickByGclid(propertyId: string, gclid: string, now: number): Promise<string | undefined>;
}

/** Attributes of the item that are not the click's: its keys, and the gclid slot's counter and marker. */
const INDEX_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'uses', 'firstClickId'] as const;
/** A click item holds its verdict; a gclid slot's marker does not. */
const isClickItem = (item: Record<string, unknown>): boolean => item.atClick !== undefined;

/**
 * The stored item is kept under 1 KB for an ordinary click (one write unit to put, one per re-score): what
 * can be derived is left out and restored on read — `current` until a re-score changes it (it starts as
 * `atClick`), `valueTrack` when it is what the landing URL says, and the signals' copy of the address.
 */
export function clickItem(record: ClickRecord, expiresAt?: number): Record<string, unknown> {
  const { current, valueTrack, signals, ...rest } = record;
  const item: Record<string, unknown> = {
    ...clickKey(record.clickId),
    ...clickIndexKeys(record.propertyId, record.clickId, record.at),
    ...rest,
    version: 1,
  };
  if (!isDeepStrictEqual(current, record.atClick)) item.current = current;
  if (!isDeepStrictEqual(valueTrack, parseValueTrack(record.pageUrl))) item.valueTrack = valueTrack;
  if (signals !== undefined) item.signals = compactSignals(signals, record.ip);
  if (expiresAt !== undefined) item.expiresAt = expiresAt;
  return item;
}

function clickFromItem(item: Record<string, unknown>): StoredClick {
  const record: Record<string, unknown> = { ...item };
  for (const name of INDEX_ATTRIBUTES) delete record[name];
  record.current ??= record.atClick;
  record.valueTrack ??= parseValueTrack(typeof item.pageUrl === 'string' ? item.pageUrl : undefined);
  if (isRecord(item.signals) && item.signals.ip === undefined) record.signals = { ip: item.ip, ...item.signals };
  return record as unknown as StoredClick;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** The signals without their copy of the click's address. */
function compactSignals(signals: ClickSignals, ip: string): Record<string, unknown> {
  if (signals.ip !== ip) return { ...signals };
  const { ip: _ip, ...rest } = signals;
  return rest;
}

/** The UpdateItem of a re-score: one conditional write, the re-score's exactly-once guard. */
function clickOutcomeUpdate(
  clickId: string,
  next: Outcome,
  reasons: readonly ReasonEntry[],
  patch: ClickPatch,
  expectedVersion: number,
) {
  const sets = ['#current = :current', '#reasons = :reasons', '#version = :nextVersion'];
  const names: Record<string, string> = { '#current': 'current', '#reasons': 'reasons', '#version': 'version' };
  const values: Record<string, unknown> = {
    ':current': next,
    ':reasons': reasons,
    ':expected': expectedVersion,
    ':nextVersion': expectedVersion + 1,
  };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    sets.push(`#${field} = :${field}`);
    names[`#${field}`] = field;
    values[`:${field}`] = value;
  }
  return {
    Key: clickKey(clickId),
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export class DynamoClickStore implements ClickStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: clickItem(record, expiresAt),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  async getClick(clickId: string): Promise<StoredClick | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: clickKey(clickId) }));
    return Item && isClickItem(Item) && !isExpired(Item, Date.now()) ? clickFromItem(Item) : undefined;
  }

  async getClicks(clickIds: readonly string[]): Promise<Map<string, StoredClick>> {
    const found = new Map<string, StoredClick>();
    const ids = [...new Set(clickIds)];
    for (const item of await batchGet(this.client, this.tableName, ids.map(clickKey), { consistent: true })) {
      if (!isClickItem(item) || isExpired(item, Date.now())) continue;
      const click = clickFromItem(item);
      found.set(click.clickId, click);
    }
    return found;
  }

  async updateClickOutcome(
    clickId: string,
    next: Outcome,
    reasons: readonly ReasonEntry[],
    patch: ClickPatch,
    expectedVersion: number,
  ): Promise<StoredClick> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          ...clickOutcomeUpdate(clickId, next, reasons, patch, expectedVersion),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return clickFromItem(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ClickVersionConflictError(clickId);
      throw error;
    }
  }

  async discardClick(clickId: string, at: number): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: clickKey(clickId),
                ConditionExpression: '#version = :one AND #at = :at AND attribute_not_exists(#uses)',
                ExpressionAttributeNames: { '#version': 'version', '#at': 'at', '#uses': 'uses' },
                ExpressionAttributeValues: { ':one': 1, ':at': at },
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: countKey(clickId),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  async countGclidUse(
    propertyId: string,
    gclid: string,
    marker: { readonly clickId: string; readonly keepUntil: number } | undefined,
    now: number,
  ): Promise<number> {
    // A slot holding a click gets only its counter: the marker's attributes are for an empty slot.
    const values: Record<string, unknown> = { ':one': 1, ':now': Math.floor(now / 1000) };
    if (marker) Object.assign(values, { ':p': propertyId, ':c': marker.clickId, ':exp': marker.keepUntil });
    try {
      const { Attributes = {} } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clickKey(gclidClickId(propertyId, gclid)),
          UpdateExpression: marker
            ? 'ADD #uses :one SET propertyId = if_not_exists(propertyId, :p), firstClickId = if_not_exists(firstClickId, :c), expiresAt = if_not_exists(expiresAt, :exp)'
            : 'ADD #uses :one',
          ConditionExpression: marker
            ? 'attribute_not_exists(pk) OR expiresAt > :now'
            : 'attribute_exists(pk) AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
          ExpressionAttributeNames: { '#uses': 'uses' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Number(Attributes.uses ?? 1) + (isClickItem(Attributes) ? 1 : 0);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 1;
      throw error;
    }
  }

  async findClickByGclid(propertyId: string, gclid: string, now: number): Promise<string | undefined> {
    const slot = gclidClickId(propertyId, gclid);
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: clickKey(slot) }));
    if (Item && !isExpired(Item, now) && Item.propertyId === propertyId) {
      return isClickItem(Item) ? slot : typeof Item.firstClickId === 'string' ? Item.firstClickId : undefined;
    }
    // A gclid first seen before gclid slots existed (a deployment upgraded since) has its first click named by a
    // `GCLID#<propertyId>#<gclid>` item of its own, kept 90 days past its last use: conversions still find it.
    const { Item: before } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `GCLID#${propertyId}#${gclid}`, sk: 'GCLID' } }),
    );
    return before && !isExpired(before, now) && typeof before.clickId === 'string' ? before.clickId : undefined;
  }

  async *clicksInRange(propertyId: string, fromMs: number, toMs: number): AsyncGenerator<StoredClick> {
    if (toMs <= fromMs) return;
    const low = new Date(fromMs).toISOString();
    // Inclusive upper bound of the half-open range: the last millisecond, any click id after it.
    const high = `${new Date(toMs - 1).toISOString()}#\uffff`;
    // UTC days are disjoint and ascending, so merging the shards of each day in turn gives one time-ordered
    // stream of keys (the index holds keys only); the clicks are read by key, a batch ahead of the reader.
    for (const day of utcDaysBetween(fromMs, toMs - 1)) {
      const shards = Array.from({ length: CLICK_DAY_SHARDS }, (_, shard) =>
        this.partition(clickDayPartition(propertyId, day, shard), low, high),
      );
      const keys = mergeSorted(shards, (i) => i.gsi1sk as string);
      for await (const click of prefetchedPages((cursor: AsyncIterator<Record<string, unknown>> | undefined) =>
        this.nextBatch(cursor ?? keys),
      )) {
        yield click;
      }
    }
  }

  /** The next ≤100 keys of the stream, read by BatchGetItem, in the stream's order. */
  private async nextBatch(keys: AsyncIterator<Record<string, unknown>>) {
    const ids: string[] = [];
    let done = false;
    while (ids.length < BATCH_GET_MAX) {
      const next = await keys.next();
      if (next.done) {
        done = true;
        break;
      }
      ids.push(String(next.value.pk).slice('CLK#'.length));
    }
    const found = await this.getClicks(ids);
    const items = ids.map((id) => found.get(id)).filter((click): click is StoredClick => click !== undefined);
    return { items, next: done ? undefined : keys };
  }

  private partition(gsi1pk: string, low: string, high: string): AsyncGenerator<Record<string, unknown>> {
    return prefetchedPages<Record<string, unknown>, Record<string, unknown>>(async (cursor) => {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high',
          ExpressionAttributeValues: { ':pk': gsi1pk, ':low': low, ':high': high },
          ExclusiveStartKey: cursor,
        }),
      );
      return { items: page.Items ?? [], next: page.LastEvaluatedKey };
    });
  }
}

/** Clicks in a Map: unit tests and the offline backtest. Same semantics as the DynamoDB store. */
export class MemoryClickStore implements ClickStore {
  private readonly clicks = new Map<string, StoredClick>();
  /** The gclid slots' later uses, and the marker of a slot whose first use is not stored in it, by slot id. */
  private readonly gclidSlots = new Map<string, { firstClickId: string; uses: number; expiresAt: number }>();

  /** `counted`: the click counter's markers (MemoryCountLedger.has), which a discard must find absent. */
  constructor(private readonly counted: (clickId: string) => boolean = () => false) {}

  async discardClick(clickId: string, at: number): Promise<boolean> {
    const click = this.clicks.get(clickId);
    if (click?.version !== 1 || click.at !== at || this.gclidSlots.has(clickId) || this.counted(clickId)) {
      return false;
    }
    this.clicks.delete(clickId);
    return true;
  }

  async putClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'> {
    if (this.clicks.has(record.clickId) || this.gclidSlots.has(record.clickId)) return 'duplicate';
    this.clicks.set(record.clickId, structuredClone(definedOnly({ ...record, version: 1, expiresAt })));
    return 'stored';
  }

  async getClick(clickId: string): Promise<StoredClick | undefined> {
    const click = this.clicks.get(clickId);
    return click ? structuredClone(click) : undefined;
  }

  async getClicks(clickIds: readonly string[]): Promise<Map<string, StoredClick>> {
    const found = new Map<string, StoredClick>();
    for (const id of clickIds) {
      const click = this.clicks.get(id);
      if (click) found.set(id, structuredClone(click));
    }
    return found;
  }

  async updateClickOutcome(
    clickId: string,
    next: Outcome,
    reasons: readonly ReasonEntry[],
    patch: ClickPatch,
    expectedVersion: number,
  ): Promise<StoredClick> {
    const click = this.clicks.get(clickId);
    if (!click || click.version !== expectedVersion) throw new ClickVersionConflictError(clickId);
    const updated: StoredClick = {
      ...click,
      ...definedOnly(patch),
      current: next,
      reasons,
      version: expectedVersion + 1,
    };
    this.clicks.set(clickId, structuredClone(updated));
    return structuredClone(updated);
  }

  async countGclidUse(
    propertyId: string,
    gclid: string,
    marker: { readonly clickId: string; readonly keepUntil: number } | undefined,
    now: number,
  ): Promise<number> {
    const slot = gclidClickId(propertyId, gclid);
    const stored = this.clicks.get(slot);
    const found = this.gclidSlots.get(slot);
    if (!stored && !found && !marker) return 1;
    const expiresAt = stored ? stored.expiresAt : found?.expiresAt;
    if ((stored || found) && isExpired({ expiresAt }, now)) return 1;
    const firstClickId = found?.firstClickId ?? marker?.clickId ?? slot;
    const next = { firstClickId, uses: (found?.uses ?? 0) + 1, expiresAt: expiresAt ?? marker?.keepUntil ?? 0 };
    this.gclidSlots.set(slot, next);
    return next.uses + (stored ? 1 : 0);
  }

  async findClickByGclid(propertyId: string, gclid: string, now: number): Promise<string | undefined> {
    const slot = gclidClickId(propertyId, gclid);
    const stored = this.clicks.get(slot);
    if (stored) return stored.propertyId === propertyId && !isExpired(stored, now) ? slot : undefined;
    const found = this.gclidSlots.get(slot);
    return found && !isExpired(found, now) ? found.firstClickId : undefined;
  }

  async *clicksInRange(propertyId: string, fromMs: number, toMs: number): AsyncGenerator<StoredClick> {
    const inRange = [...this.clicks.values()]
      .filter((click) => click.propertyId === propertyId && click.at >= fromMs && click.at < toMs)
      .sort((a, b) => a.at - b.at || (a.clickId < b.clickId ? -1 : a.clickId > b.clickId ? 1 : 0));
    for (const click of inRange) yield structuredClone(click);
  }
}
