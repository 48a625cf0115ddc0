import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type CounterSpec, type CounterValues, counterValuesFrom, type VelocityStore } from './velocity';

/**
 * Velocity counters as items `pk = VEL#<propertyId>#<counter>#<subject>[#<bucket>]`, `sk = VEL`, with
 * `v` (a number, or a string set for distinct counters) and the TTL attribute `expiresAt`.
 * One UpdateItem `ADD` per spec, all issued together; UPDATED_NEW returns each new value, so no read
 * is needed. An item whose TTL has passed but which DynamoDB has not deleted yet fails the condition and
 * is overwritten as a fresh counter (only unbucketed keys such as gclid can meet one).
 */
export interface DynamoVelocityStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now?: () => number;
  /** Ask DynamoDB for consumed capacity; the total is kept in `consumedCapacityUnits` (benchmarks). */
  readonly returnConsumedCapacity?: boolean;
}

export const VELOCITY_SK = 'VEL';

export class DynamoVelocityStore implements VelocityStore {
  consumedCapacityUnits = 0;
  private readonly now: () => number;

  constructor(private readonly options: DynamoVelocityStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async increment(specs: readonly CounterSpec[]): Promise<CounterValues> {
    const nowSec = Math.floor(this.now() / 1000);
    const results = await Promise.all(specs.map((spec) => this.add(spec, nowSec)));
    return counterValuesFrom(specs, results);
  }

  private async add(spec: CounterSpec, nowSec: number): Promise<number> {
    try {
      const out = await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { pk: spec.key, sk: VELOCITY_SK },
          UpdateExpression: 'ADD #v :inc SET expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt > :now',
          ExpressionAttributeNames: { '#v': 'v' },
          ExpressionAttributeValues: { ':inc': increment(spec), ':exp': spec.expiresAt, ':now': nowSec },
          ReturnValues: 'UPDATED_NEW',
          ...(this.options.returnConsumedCapacity ? { ReturnConsumedCapacity: 'TOTAL' } : {}),
        }),
      );
      this.consumedCapacityUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      return counterValue(out.Attributes?.v);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.restart(spec, nowSec);
    }
  }

  /** Replaces an expired-but-undeleted item; if another writer restarted it first, count on top of theirs. */
  private async restart(spec: CounterSpec, nowSec: number): Promise<number> {
    try {
      const out = await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { pk: spec.key, sk: VELOCITY_SK, v: increment(spec), expiresAt: spec.expiresAt },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': nowSec },
          ...(this.options.returnConsumedCapacity ? { ReturnConsumedCapacity: 'TOTAL' } : {}),
        }),
      );
      this.consumedCapacityUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      return 1;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.add(spec, nowSec);
    }
  }
}

const increment = (spec: CounterSpec): number | Set<string> => (spec.member === undefined ? 1 : new Set([spec.member]));

function counterValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Set) return v.size;
  return 0;
}
