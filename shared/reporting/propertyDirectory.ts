import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config/env';
import { prefetchedPages } from '../decisions/sortedMerge';
import { logger } from '../observability';
import { type EffectiveConfig, effectiveConfig, type PropertyRecord } from '../properties';
import { PROPERTY_DIRECTORY } from '../properties/dynamoStore';
import { documentClient } from '../storage/clients';

/**
 * Every property, for the scheduled jobs only (never a request path): a Query of the property
 * directory (the META items sit in GSI2 under one key, written once per property by shared/properties).
 */
export async function* allProperties(): AsyncGenerator<{ propertyId: string; config: EffectiveConfig }> {
  const tableName = requireEnv(ENV.tableName);
  const items = prefetchedPages<Record<string, unknown>, Record<string, unknown>>(async (cursor) => {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :directory',
        ExpressionAttributeValues: { ':directory': PROPERTY_DIRECTORY.gsi2pk },
        ExclusiveStartKey: cursor,
      }),
    );
    return { items: page.Items ?? [], next: page.LastEvaluatedKey };
  });
  for await (const item of items) {
    const { pk: _pk, sk: _sk, gsi2pk: _gpk, gsi2sk: _gsk, ...property } = item;
    const record = property as unknown as PropertyRecord;
    if (record.disabled) continue;
    yield { propertyId: record.id, config: effectiveConfig(record) };
  }
}

/** Runs `work` for every property, one after another; one property's failure does not stop the others. */
export async function forEachProperty(
  work: (property: { propertyId: string; config: EffectiveConfig }) => Promise<void>,
): Promise<{ done: number; failed: string[] }> {
  const failed: string[] = [];
  let done = 0;
  for await (const property of allProperties()) {
    try {
      await work(property);
      done++;
    } catch (error) {
      logger.error('scheduled work failed for a property', {
        propertyId: property.propertyId,
        error: error instanceof Error ? error.name : 'unknown',
      });
      failed.push(property.propertyId);
    }
  }
  return { done, failed };
}
