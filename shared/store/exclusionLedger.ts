import type { ExclusionLevel } from '../googleAds/selection';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from './aws/dynamodb';
import { ttlAt } from './table';

/**
 * What clicksieve did to a property's ad account, under `GADS#<propertyId>`:
 *   OWN#<level>#<campaignId or ->#<value>   an exclusion clicksieve created (resource name, why, when, run)
 *   LOG#<ISO time>#<runId>#<n>               the change log: added / removed / failed / dry run (TTL 400 days)
 *   SUP#<value>                              an address or range the advertiser took back: never re-added
 * Only OWN items are ever removed from the account: anything else there is the advertiser's.
 * Bounded: OWN ≤ 500 per campaign and 500 for the account; SUP only grows by the advertiser's own DELETEs.
 */
export interface OwnedExclusion {
  readonly value: string;
  readonly level: ExclusionLevel;
  readonly campaignId?: string;
  readonly resourceName: string;
  readonly reason: string;
  /** ISO time. */
  readonly addedAt: string;
  readonly runId: string;
  /** Set for a placement exclusion (account level, `value` is its URL); absent for an IP exclusion. */
  readonly kind?: 'placement';
}

type ChangeAction = 'added' | 'removed' | 'failed' | 'dry_run';

export interface ChangeLogEntry {
  readonly at: string;
  readonly runId: string;
  readonly action: ChangeAction;
  readonly value?: string;
  readonly level?: ExclusionLevel;
  readonly campaignId?: string;
  readonly kind?: 'placement';
  readonly reason: string;
  /** Google's error code for `failed`. */
  readonly error?: string;
}

export interface ExclusionLedger {
  owned(propertyId: string): Promise<OwnedExclusion[]>;
  putOwned(propertyId: string, entry: OwnedExclusion): Promise<void>;
  deleteOwned(propertyId: string, entry: Pick<OwnedExclusion, 'level' | 'campaignId' | 'value'>): Promise<void>;
  appendLog(propertyId: string, entries: readonly ChangeLogEntry[]): Promise<void>;
  /** Newest first. */
  changeLog(propertyId: string, limit: number): Promise<ChangeLogEntry[]>;
  suppressed(propertyId: string): Promise<Set<string>>;
  suppress(propertyId: string, value: string, at: string): Promise<void>;
  allow(propertyId: string, value: string): Promise<void>;
}

const LOG_LIFETIME_SECONDS = 400 * 86_400;
const partition = (propertyId: string) => `GADS#${propertyId}`;
const ownKey = (e: Pick<OwnedExclusion, 'level' | 'campaignId' | 'value'>) =>
  `OWN#${e.level}#${e.campaignId ?? '-'}#${e.value}`;

export class DynamoExclusionLedger implements ExclusionLedger {
  private logSeq = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async owned(propertyId: string): Promise<OwnedExclusion[]> {
    return (await this.query(propertyId, 'OWN#')).map((item) => strip(item) as unknown as OwnedExclusion);
  }

  async putOwned(propertyId: string, entry: OwnedExclusion): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: partition(propertyId), sk: ownKey(entry), ...entry } }),
    );
  }

  async deleteOwned(propertyId: string, entry: Pick<OwnedExclusion, 'level' | 'campaignId' | 'value'>) {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: partition(propertyId), sk: ownKey(entry) } }),
    );
  }

  async appendLog(propertyId: string, entries: readonly ChangeLogEntry[]): Promise<void> {
    for (const entry of entries) {
      const sk = `LOG#${entry.at}#${entry.runId}#${String(this.logSeq++).padStart(6, '0')}`;
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: partition(propertyId),
            sk,
            ...entry,
            expiresAt: ttlAt(Date.parse(entry.at), LOG_LIFETIME_SECONDS),
          },
        }),
      );
    }
  }

  async changeLog(propertyId: string, limit: number): Promise<ChangeLogEntry[]> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition(propertyId), ':prefix': 'LOG#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => {
      const { expiresAt: _e, ...entry } = strip(item);
      return entry as unknown as ChangeLogEntry;
    });
  }

  async suppressed(propertyId: string): Promise<Set<string>> {
    return new Set((await this.query(propertyId, 'SUP#')).map((item) => String(item.value)));
  }

  async suppress(propertyId: string, value: string, at: string): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: partition(propertyId), sk: `SUP#${value}`, value, at } }),
    );
  }

  async allow(propertyId: string, value: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: partition(propertyId), sk: `SUP#${value}` } }),
    );
  }

  private async query(propertyId: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': partition(propertyId), ':prefix': prefix },
          ExclusiveStartKey: cursor,
        }),
      );
      items.push(...(page.Items ?? []));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return items;
  }
}

function strip(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

/** Same semantics in Maps, for unit tests and the backtest. */
export class MemoryExclusionLedger implements ExclusionLedger {
  private readonly own = new Map<string, Map<string, OwnedExclusion>>();
  private readonly logs = new Map<string, ChangeLogEntry[]>();
  private readonly sup = new Map<string, Set<string>>();

  async owned(propertyId: string) {
    return [...(this.own.get(propertyId)?.values() ?? [])];
  }
  async putOwned(propertyId: string, entry: OwnedExclusion) {
    const map = this.own.get(propertyId) ?? new Map<string, OwnedExclusion>();
    this.own.set(propertyId, map.set(ownKey(entry), entry));
  }
  async deleteOwned(propertyId: string, entry: Pick<OwnedExclusion, 'level' | 'campaignId' | 'value'>) {
    this.own.get(propertyId)?.delete(ownKey(entry));
  }
  async appendLog(propertyId: string, entries: readonly ChangeLogEntry[]) {
    this.logs.set(propertyId, [...(this.logs.get(propertyId) ?? []), ...entries]);
  }
  async changeLog(propertyId: string, limit: number) {
    return [...(this.logs.get(propertyId) ?? [])].reverse().slice(0, limit);
  }
  async suppressed(propertyId: string) {
    return new Set(this.sup.get(propertyId) ?? []);
  }
  async suppress(propertyId: string, value: string, _at: string) {
    this.sup.set(propertyId, (this.sup.get(propertyId) ?? new Set()).add(value));
  }
  async allow(propertyId: string, value: string) {
    this.sup.get(propertyId)?.delete(value);
  }
}
