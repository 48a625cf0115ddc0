import {
  type CounterSpec,
  type CounterValues,
  counterValuesFrom,
  isWindowAttribute,
  type VelocityStore,
} from '../../scoring/velocity';
import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '../aws/dynamodb';

/**
 * Velocity counters, one item per counted key: `pk = VEL#<propertyId>#<family>#<subject>`, `sk = VEL`
 * (families: `ip` — the address's 1-minute, 1-hour and 1-day windows and its distinct visitors; `net` — the
 * /24 or /64; `vis` — the visitor's clicks and distinct addresses; `ipc` — address × campaign; `gclid`;
 * `token_uses`). Each window is one attribute whose name carries its bucket number (`ip_1h_0_246810`), so a
 * window that ended is never read again, whatever DynamoDB has not deleted yet.
 *
 * One UpdateItem per counted key, all issued together: `ADD` to the current buckets, `REMOVE` the previous
 * buckets, `SET expiresAt` (the TTL: the longest window's end). ALL_NEW returns the item, so no read is
 * needed; buckets older than the previous one (a key quiet for a whole window) are removed by a second
 * write only once they pile up. An item whose TTL passed but which DynamoDB has not deleted yet fails the
 * condition and is replaced by a fresh one (only the unbucketed gclid and token items can meet one).
 *
 * A counted key may be another family's item (the visitor's `VIS#` item, the gclid's and token's first-click
 * items): `alongside` names that item's key and the attributes the same UpdateItem writes beside the counters,
 * so the click path spends one write per counted key, whatever else that key's item keeps.
 */
export interface DynamoVelocityStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
}

export const VELOCITY_SK = 'VEL';

/** Another family's attributes written by a counted key's UpdateItem (see the class comment). */
export interface ItemAttributes {
  /** The item's table key (default `{ pk: <counted key>, sk: 'VEL' }`). */
  readonly key: { readonly pk: string; readonly sk: string };
  /** Written only when the item has none yet (first seen, first click). */
  readonly setIfAbsent?: Readonly<Record<string, unknown>>;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly add?: Readonly<Record<string, number>>;
  /** The item lives at least this long (epoch seconds): its own retention, beyond the windows. */
  readonly keepUntil: number;
}

export interface CountedItems {
  readonly values: CounterValues;
  /** Each counted key's item as written (ALL_NEW), by counted key. */
  readonly items: ReadonlyMap<string, Record<string, unknown>>;
}
/** Leftover buckets an item may carry before a write removes them (they cost item size, never exactness). */
const MAX_LEFTOVER_BUCKETS = 6;

export class DynamoVelocityStore implements VelocityStore {
  private readonly now: () => number;

  constructor(private readonly options: DynamoVelocityStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async increment(specs: readonly CounterSpec[]): Promise<CounterValues> {
    return (await this.incrementWith(specs, new Map())).values;
  }

  /** `increment`, writing `alongside[item]` into the counted key's item by the same UpdateItem. */
  async incrementWith(
    specs: readonly CounterSpec[],
    alongside: ReadonlyMap<string, ItemAttributes>,
  ): Promise<CountedItems> {
    const nowSec = Math.floor(this.now() / 1000);
    const byItem = new Map<string, CounterSpec[]>();
    for (const spec of specs) {
      const group = byItem.get(spec.item);
      if (group) group.push(spec);
      else byItem.set(spec.item, [spec]);
    }
    const written = await Promise.all(
      [...byItem].map(async ([item, group]) => {
        const write = new ItemWrite(item, group, alongside.get(item));
        return [item, await this.add(write, nowSec)] as const;
      }),
    );
    const items = new Map(written);
    const counters = specs.map((spec) => counterValue(items.get(spec.item)?.[spec.attr]));
    return { values: counterValuesFrom(specs, counters), items };
  }

  private async add(write: ItemWrite, nowSec: number): Promise<Record<string, unknown>> {
    const { group, extra } = write;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': nowSec, ':exp': write.expiresAt };
    const adds: string[] = [];
    const sets = ['expiresAt = :exp'];
    const removes: string[] = [];
    group.forEach((spec, i) => {
      names[`#a${i}`] = spec.attr;
      values[`:a${i}`] = increment(spec);
      adds.push(`#a${i} :a${i}`);
      if (spec.previous !== undefined) {
        names[`#p${i}`] = spec.previous;
        removes.push(`#p${i}`);
      }
    });
    const attribute = (prefix: string, entries: Readonly<Record<string, unknown>> | undefined) =>
      Object.entries(entries ?? {}).map(([name, value], i) => {
        names[`#${prefix}${i}`] = name;
        values[`:${prefix}${i}`] = value;
        return [`#${prefix}${i}`, `:${prefix}${i}`] as const;
      });
    for (const [name, value] of attribute('x', extra?.setIfAbsent))
      sets.push(`${name} = if_not_exists(${name}, ${value})`);
    for (const [name, value] of attribute('s', extra?.set)) sets.push(`${name} = ${value}`);
    for (const [name, value] of attribute('n', extra?.add)) adds.push(`${name} ${value}`);
    try {
      const out = await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: write.key,
          UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const attributes = out.Attributes ?? {};
      await this.dropLeftovers(write, attributes);
      return attributes;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.restart(write, nowSec);
    }
  }

  /** Replaces an expired-but-undeleted item; if another writer restarted it first, count on top of theirs. */
  private async restart(write: ItemWrite, nowSec: number): Promise<Record<string, unknown>> {
    const { extra } = write;
    const fresh: Record<string, unknown> = {
      ...write.key,
      ...extra?.setIfAbsent,
      ...extra?.set,
      ...extra?.add,
      expiresAt: write.expiresAt,
    };
    for (const spec of write.group) fresh[spec.attr] = increment(spec);
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: fresh,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': nowSec },
        }),
      );
      return fresh;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.add(write, nowSec);
    }
  }

  /** Removes buckets older than the previous one once enough have piled up (a key active now and then). */
  private async dropLeftovers(write: ItemWrite, attributes: Record<string, unknown>) {
    const live = new Set(write.group.map((spec) => spec.attr));
    const leftovers = Object.keys(attributes).filter((name) => isWindowAttribute(name) && !live.has(name));
    if (leftovers.length < MAX_LEFTOVER_BUCKETS) return;
    const names = Object.fromEntries(leftovers.map((name, i) => [`#l${i}`, name]));
    await this.options.client
      .send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: write.key,
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
        }),
      )
      .catch((error) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }
}

/** One counted key's UpdateItem: its windows and whatever else its item keeps. */
class ItemWrite {
  readonly key: { readonly pk: string; readonly sk: string };
  /** The TTL: the longest window's end, or the item's own retention when that is later. */
  readonly expiresAt: number;

  constructor(
    item: string,
    readonly group: readonly CounterSpec[],
    readonly extra: ItemAttributes | undefined,
  ) {
    this.key = extra?.key ?? { pk: item, sk: VELOCITY_SK };
    this.expiresAt = Math.max(extra?.keepUntil ?? 0, ...group.map((spec) => spec.expiresAt));
  }
}

const increment = (spec: CounterSpec): number | Set<string> => (spec.member === undefined ? 1 : new Set([spec.member]));

function counterValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Set) return v.size;
  return 0;
}
