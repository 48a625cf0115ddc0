import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from './aws/dynamodb';

/**
 * The request meter's items (the policy — plans, windows, batching, 429/402 — is shared/http/rateLimit.ts).
 *
 * Item (TTL `expiresAt`): `METER#<propertyId>#<shard>` / `<YYYY-MM-DDTHH>` (UTC hour) with
 *   `t`            requests admitted in that hour (the month's allowance is the sum over its hours)
 *   `m<MM>`        requests admitted in minute MM of that hour (plan rate, X-RateLimit-*)
 *   `<limit><MM>`  per-property limits by minute (e.g. `webhook07`)
 * At most 1 + 60 × (1 + limits) small numbers: well under 1 KB, so one write unit per write.
 */
export interface MeterWrite {
  readonly pk: string;
  readonly sk: string;
  /** Attribute → how much to add to it. */
  readonly add: Readonly<Record<string, number>>;
  /**
   * Attribute → the most it may hold after the write: when one of them would pass its cap, nothing is
   * written. Without caps the write always applies (counts of requests already admitted).
   */
  readonly caps?: Readonly<Record<string, number>>;
  readonly expiresAt: number;
}

/** The attributes of `add` after the write (applied), or as they stood (refused). */
interface MeterOutcome {
  readonly applied: boolean;
  readonly counts: Readonly<Record<string, number>>;
}

/** The meter's storage: DynamoDB in the service, a Map in tests and the in-process twin. */
export interface MeterStore {
  /** One `UpdateItem`: adds to every attribute of `add`, unless a cap would be passed. */
  add(write: MeterWrite): Promise<MeterOutcome>;
  /** Sum of `t` over the items of `pk` whose sort key starts with `prefix` and is below `before` (a read). */
  sumBefore(pk: string, prefix: string, before: string): Promise<number>;
}

export class DynamoMeterStore implements MeterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(write: MeterWrite): Promise<MeterOutcome> {
    const attributes = Object.keys(write.add);
    const names: Record<string, string> = { '#exp': 'expiresAt' };
    const values: Record<string, unknown> = { ':exp': write.expiresAt };
    attributes.forEach((name, i) => {
      names[`#a${i}`] = name;
      values[`:n${i}`] = write.add[name];
    });
    const conditions: string[] = [];
    attributes.forEach((name, i) => {
      const cap = write.caps?.[name];
      if (cap === undefined) return;
      const most = cap - (write.add[name] ?? 0);
      values[`:c${i}`] = most;
      // An absent attribute holds 0: it takes the add only when the add alone fits the cap.
      conditions.push(most >= 0 ? `(attribute_not_exists(#a${i}) OR #a${i} <= :c${i})` : `#a${i} <= :c${i}`);
    });
    const key = { pk: write.pk, sk: write.sk };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `ADD ${attributes.map((_, i) => `#a${i} :n${i}`).join(', ')} SET #exp = if_not_exists(#exp, :exp)`,
          ConditionExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: conditions.length > 0 ? 'ALL_OLD' : undefined,
        }),
      );
      return { applied: true, counts: countsOf(Attributes, attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The item as it stood; an emulator that does not return it costs one read instead.
      const old = error.Item
        ? Object.fromEntries(Object.entries(error.Item).map(([name, value]) => [name, value.N]))
        : (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item;
      return { applied: false, counts: countsOf(old, attributes) };
    }
  }

  async sumBefore(pk: string, prefix: string, before: string): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ProjectionExpression: 'sk, t',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (String(item.sk) < before) total += Number(item.t ?? 0);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return total;
  }
}

function countsOf(item: Record<string, unknown> | undefined, attributes: readonly string[]): Record<string, number> {
  return Object.fromEntries(attributes.map((name) => [name, Number(item?.[name] ?? 0)]));
}

export class MemoryMeterStore implements MeterStore {
  readonly items = new Map<string, Record<string, number>>();
  /** Writes attempted (applied or not): what the meter costs. */
  writes = 0;

  async add(write: MeterWrite): Promise<MeterOutcome> {
    this.writes += 1;
    const key = `${write.pk}\u0000${write.sk}`;
    const item = this.items.get(key) ?? {};
    const attributes = Object.keys(write.add);
    const counts = countsOf(item, attributes);
    const passes = (name: string) => {
      const cap = write.caps?.[name];
      return cap === undefined || (counts[name] ?? 0) + (write.add[name] ?? 0) <= cap;
    };
    if (!attributes.every(passes)) return { applied: false, counts };
    for (const name of attributes) item[name] = (item[name] ?? 0) + (write.add[name] ?? 0);
    this.items.set(key, item);
    return { applied: true, counts: countsOf(item, attributes) };
  }

  async sumBefore(pk: string, prefix: string, before: string): Promise<number> {
    let total = 0;
    for (const [key, item] of this.items) {
      const [itemPk, sk = ''] = key.split('\u0000');
      if (itemPk === pk && sk.startsWith(prefix) && sk < before) total += item.t ?? 0;
    }
    return total;
  }
}
