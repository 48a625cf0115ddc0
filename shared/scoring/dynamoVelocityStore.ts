import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type CounterSpec, type CounterValues, counterValuesFrom, type VelocityStore } from './velocity';

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
 */
export interface DynamoVelocityStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
}

export const VELOCITY_SK = 'VEL';
/** Leftover buckets an item may carry before a write removes them (they cost item size, never exactness). */
const MAX_LEFTOVER_BUCKETS = 6;

export class DynamoVelocityStore implements VelocityStore {
  private readonly now: () => number;

  constructor(private readonly options: DynamoVelocityStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async increment(specs: readonly CounterSpec[]): Promise<CounterValues> {
    const nowSec = Math.floor(this.now() / 1000);
    const byItem = new Map<string, CounterSpec[]>();
    for (const spec of specs) {
      const group = byItem.get(spec.item);
      if (group) group.push(spec);
      else byItem.set(spec.item, [spec]);
    }
    const items = await Promise.all([...byItem].map(([item, group]) => this.add(item, group, nowSec)));
    const values = new Map<string, unknown>();
    for (const item of items) for (const [name, value] of Object.entries(item)) values.set(name, value);
    return counterValuesFrom(
      specs,
      specs.map((spec) => counterValue(values.get(spec.attr))),
    );
  }

  private async add(item: string, group: readonly CounterSpec[], nowSec: number): Promise<Record<string, unknown>> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': nowSec, ':exp': expiryOf(group) };
    const adds: string[] = [];
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
    try {
      const out = await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { pk: item, sk: VELOCITY_SK },
          UpdateExpression: `ADD ${adds.join(', ')} SET expiresAt = :exp${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt > :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const attributes = out.Attributes ?? {};
      await this.dropLeftovers(item, group, attributes);
      return attributes;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.restart(item, group, nowSec);
    }
  }

  /** Replaces an expired-but-undeleted item; if another writer restarted it first, count on top of theirs. */
  private async restart(item: string, group: readonly CounterSpec[], nowSec: number): Promise<Record<string, unknown>> {
    const fresh: Record<string, unknown> = {};
    for (const spec of group) fresh[spec.attr] = increment(spec);
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { pk: item, sk: VELOCITY_SK, ...fresh, expiresAt: expiryOf(group) },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': nowSec },
        }),
      );
      return fresh;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.add(item, group, nowSec);
    }
  }

  /** Removes buckets older than the previous one once enough have piled up (a key active now and then). */
  private async dropLeftovers(item: string, group: readonly CounterSpec[], attributes: Record<string, unknown>) {
    const live = new Set(group.map((spec) => spec.attr));
    const leftovers = Object.keys(attributes).filter(
      (name) => name !== 'pk' && name !== 'sk' && name !== 'expiresAt' && !live.has(name),
    );
    if (leftovers.length < MAX_LEFTOVER_BUCKETS) return;
    const names = Object.fromEntries(leftovers.map((name, i) => [`#l${i}`, name]));
    await this.options.client
      .send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { pk: item, sk: VELOCITY_SK },
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

const expiryOf = (group: readonly CounterSpec[]): number => Math.max(...group.map((spec) => spec.expiresAt));

const increment = (spec: CounterSpec): number | Set<string> => (spec.member === undefined ? 1 : new Set([spec.member]));

function counterValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Set) return v.size;
  return 0;
}
