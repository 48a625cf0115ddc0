import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from './aws/dynamodb';

/** DynamoDB's BatchGetItem limit: keys per request. */
export const BATCH_GET_MAX = 100;

export interface BatchGetOptions {
  /** Strongly consistent (what was just written), or eventually consistent at half the read units. */
  readonly consistent: boolean;
  /** Only these attributes (comma-separated names), e.g. a key check. */
  readonly projection?: string;
}

/**
 * Every item of `keys` that exists, in no particular order: BatchGetItem in requests of BATCH_GET_MAX keys, the
 * unprocessed keys (throttling) retried with backoff until none is left — a read never silently misses an item.
 */
export async function batchGet(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: BatchGetOptions,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_MAX);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('batch read throttled: unprocessed keys remain');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      const out: BatchGetCommandOutput = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: options.consistent,
              ProjectionExpression: options.projection,
            },
          },
        }),
      );
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return items;
}
