import {
  ACTOR_CONVERSIONS_ATTRIBUTE,
  CAMPAIGN_SLOTS,
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
 * Velocity counters, one item per counted key, in the counters table (COUNTERS_TABLE in ../table.ts):
 * `pk = VEL#<propertyId>#<family>#<subject>`, `sk = VEL`
 * (families: `ip` — the address's 1-minute, 1-hour and 1-day windows, its distinct visitors and its
 * campaigns' day windows in a bounded set of slots (CampaignSlot in ./velocity); `net` — the /24 or /64;
 * `vis` — the visitor's clicks and distinct addresses; `token_uses`; the service counts a gclid in the click's
 * own item, shared/store/clicks.ts). Each window is one attribute whose name carries its bucket number
 * (`ip_1h_0_246810`), so a window that ended is never read again, whatever DynamoDB has not deleted yet.
 *
 * One UpdateItem per counted key, all issued together: `ADD` to the current buckets, `REMOVE` the previous
 * buckets, `SET expiresAt` (the TTL: the longest window's end). ALL_NEW returns the item, so no read is
 * needed; buckets older than the previous one (a key quiet for a whole window) are removed by a second
 * write only once they pile up. An item whose TTL passed but which DynamoDB has not deleted yet fails the
 * condition and is replaced by a fresh one (only the unbucketed token items can meet one).
 *
 * A counted key may be another family's item (the visitor's `VIS#` item, the token's first-click
 * item): `alongside` names that item's key and the attributes the same UpdateItem writes beside the counters,
 * so the click path spends one write per counted key, whatever else that key's item keeps.
 */
interface DynamoVelocityStoreOptions {
  readonly client: DynamoDBDocumentClient;
  /** The table of the other families' items a counted key may be (`VIS#`, `TOKEN#`). */
  readonly tableName: string;
  /** The table of the counted keys' own `VEL#` items (shared/store/table.ts COUNTERS_TABLE); default `tableName`. */
  readonly countersTableName?: string;
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

interface CountedItems {
  readonly values: CounterValues;
  /** Each counted key's item as written (ALL_NEW), by counted key. */
  readonly items: ReadonlyMap<string, Record<string, unknown>>;
}
/** Leftover buckets an item may carry before a write removes them (they cost item size, never exactness). */
const MAX_LEFTOVER_BUCKETS = 6;

export class DynamoVelocityStore implements VelocityStore {
  private readonly now: () => number;
  private readonly countersTableName: string;

  constructor(private readonly options: DynamoVelocityStoreOptions) {
    this.now = options.now ?? Date.now;
    this.countersTableName = options.countersTableName ?? options.tableName;
  }

  /** A counted key's own item is in the counters table; another family's item, in its own table. */
  private tableOf(write: ItemWrite): string {
    return write.extra === undefined ? this.countersTableName : this.options.tableName;
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
    const counters = specs.map((spec) => {
      const item = items.get(spec.item);
      return counterValue(item?.[countedAttr(spec, item)]);
    });
    const conversions = specs.map((spec) =>
      spec.conversions === undefined ? 0 : counterValue(items.get(spec.item)?.[ACTOR_CONVERSIONS_ATTRIBUTE]),
    );
    return { values: counterValuesFrom(specs, counters, conversions), items };
  }

  /**
   * `conv` + 1 on each actor item of `specs` (actorCountersFor) that is still live: one UpdateItem per item,
   * conditional so an expired or deleted actor is never re-created as an item without a TTL. `keys` maps a
   * counted key to another family's item (the visitor's `VIS#` item), as `alongside` does for a click.
   */
  async addConversion(
    specs: readonly CounterSpec[],
    keys: ReadonlyMap<string, { readonly pk: string; readonly sk: string }> = new Map(),
  ): Promise<void> {
    const nowSec = Math.floor(this.now() / 1000);
    await Promise.all(
      specs
        .filter((spec) => spec.conversions !== undefined)
        .map((spec) => {
          const key = keys.get(spec.item);
          return this.options.client
            .send(
              new UpdateCommand({
                TableName: key === undefined ? this.countersTableName : this.options.tableName,
                Key: key ?? { pk: spec.item, sk: VELOCITY_SK },
                UpdateExpression: 'ADD #conv :one',
                ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
                ExpressionAttributeNames: { '#conv': ACTOR_CONVERSIONS_ATTRIBUTE },
                ExpressionAttributeValues: { ':one': 1, ':now': nowSec },
              }),
            )
            .catch((error) => {
              if (!(error instanceof ConditionalCheckFailedException)) throw error;
            });
        }),
    );
  }

  /**
   * The counted key's UpdateItem. A campaign slot adds a condition (the campaign holds a slot, or one is
   * free); when it fails, the same write counts the campaign in the overflow window instead. A write that
   * fails even so found an expired item: `original` (its campaign slotted) restarts it.
   */
  private async add(write: ItemWrite, nowSec: number, original = write): Promise<Record<string, unknown>> {
    const { extra } = write;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': nowSec, ':exp': write.expiresAt };
    const adds: string[] = [];
    // A live item counted from-first keeps its expiry; an expired one fails the condition and is restarted.
    const sets = [write.expiryFromFirst ? 'expiresAt = if_not_exists(expiresAt, :exp)' : 'expiresAt = :exp'];
    const removes: string[] = [];
    const conditions = ['(attribute_not_exists(pk) OR expiresAt > :now)'];
    write.windows().forEach((window, i) => {
      names[`#a${i}`] = window.attr;
      values[`:a${i}`] = window.value;
      adds.push(`#a${i} :a${i}`);
      window.previous.forEach((previous, j) => {
        names[`#p${i}_${j}`] = previous;
        removes.push(`#p${i}_${j}`);
      });
      if (window.slotOf === undefined) return;
      values[`:c${i}`] = window.slotOf;
      values[`:slots${i}`] = CAMPAIGN_SLOTS;
      conditions.push(`(attribute_not_exists(#a${i}) OR contains(#a${i}, :c${i}) OR size(#a${i}) < :slots${i})`);
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
          TableName: this.tableOf(write),
          Key: write.key,
          UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
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
      if (!write.overflow && write.slotted) return this.add(write.overflowing(), nowSec, original);
      return this.restart(original, nowSec);
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
    for (const window of write.windows()) fresh[window.attr] = window.value;
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.tableOf(write),
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
    // Most items carry fewer window attributes than the bound at all: nothing to sort out.
    let windows = 0;
    for (const name in attributes) if (isWindowAttribute(name)) windows++;
    if (windows < MAX_LEFTOVER_BUCKETS) return;
    const live = new Set(write.group.map((spec) => spec.attr));
    // Today's campaign slots are live whichever campaigns this click counted.
    const slots = write.group.flatMap((spec) => (spec.slot ? [spec.slot.slotsAttr] : []));
    const isLive = (name: string) => live.has(name) || slots.some((set) => name === set || name.startsWith(`${set}_`));
    const leftovers = Object.keys(attributes).filter((name) => isWindowAttribute(name) && !isLive(name));
    if (leftovers.length < MAX_LEFTOVER_BUCKETS) return;
    const names = Object.fromEntries(leftovers.map((name, i) => [`#l${i}`, name]));
    await this.options.client
      .send(
        new UpdateCommand({
          TableName: this.tableOf(write),
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

/** One attribute an UpdateItem adds to: a window, or the set of campaigns holding a slot. */
interface WindowAdd {
  readonly attr: string;
  readonly value: number | Set<string>;
  /** The same window's previous bucket(s), removed by the same write. */
  readonly previous: readonly string[];
  /** The set of campaign slots: the member this write may add only while a slot is free or already its own. */
  readonly slotOf?: string;
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
    /** Campaigns count in the overflow window (all slots are taken by others). */
    readonly overflow = false,
  ) {
    this.key = extra?.key ?? { pk: item, sk: VELOCITY_SK };
    this.expiresAt = Math.max(extra?.keepUntil ?? 0, ...group.map((spec) => spec.expiresAt));
  }

  /** Every counter of the item lives from its first count (CounterSpec.expiryFromFirst). */
  get expiryFromFirst(): boolean {
    return this.extra === undefined && this.group.every((spec) => spec.expiryFromFirst === true);
  }

  get slotted(): boolean {
    return this.group.some((spec) => spec.slot !== undefined);
  }

  overflowing(): ItemWrite {
    return new ItemWrite(this.key.pk, this.group, this.extra, true);
  }

  windows(): WindowAdd[] {
    return this.group.flatMap((spec): WindowAdd[] => {
      const previous = spec.previous === undefined ? [] : [spec.previous];
      const { slot } = spec;
      if (slot === undefined) return [{ attr: spec.attr, value: increment(spec), previous }];
      if (this.overflow) return [{ attr: slot.overflowAttr, value: 1, previous: [slot.previousOverflowAttr] }];
      return [
        { attr: spec.attr, value: 1, previous },
        {
          attr: slot.slotsAttr,
          value: new Set([slot.campaign]),
          previous: [slot.previousSlotsAttr],
          slotOf: slot.campaign,
        },
      ];
    });
  }
}

const increment = (spec: CounterSpec): number | Set<string> => (spec.member === undefined ? 1 : new Set([spec.member]));

/** The window a spec counted in, as the item reads after the write: a campaign without a slot is the overflow's. */
function countedAttr(spec: CounterSpec, item: Record<string, unknown> | undefined): string {
  const { slot } = spec;
  if (slot === undefined) return spec.attr;
  const slots = item?.[slot.slotsAttr];
  return slots instanceof Set && slots.has(slot.campaign) ? spec.attr : slot.overflowAttr;
}

function counterValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Set) return v.size;
  return 0;
}
