import { ENV, requireEnv } from '../config/env';
import { logger } from '../observability';
import { type EffectiveConfig, effectiveConfig, type PropertyRecord } from '../properties';
import type { PropertySummary } from '../schemas/properties';
import { QueryCommand } from './aws/dynamodb';
import { documentClient } from './clients';
import { PROPERTY_DIRECTORY } from './properties/dynamo';
import { prefetchedPages } from './sortedMerge';

/** The property directory (the META items sit in GSI2 under one key, written once per property): a Query, no Scan. */
function directoryRecords(): AsyncGenerator<PropertyRecord> {
  const tableName = requireEnv(ENV.tableName);
  return records(
    prefetchedPages<Record<string, unknown>, Record<string, unknown>>(async (cursor) => {
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
    }),
  );
}

async function* records(items: AsyncIterable<Record<string, unknown>>): AsyncGenerator<PropertyRecord> {
  for await (const item of items) {
    const { pk: _pk, sk: _sk, gsi2pk: _gpk, gsi2sk: _gsk, ...property } = item;
    yield property as unknown as PropertyRecord;
  }
}

/** Every enabled property, for the scheduled jobs. */
async function* allProperties(): AsyncGenerator<{ propertyId: string; config: EffectiveConfig }> {
  for await (const record of directoryRecords()) {
    if (record.disabled) continue;
    yield { propertyId: record.id, config: effectiveConfig(record) };
  }
}

/** The operator's list (admin key only): every property, disabled ones too, oldest first; nothing secret. */
export async function listProperties(): Promise<PropertySummary[]> {
  const list: PropertySummary[] = [];
  for await (const record of directoryRecords()) {
    list.push({
      id: record.id,
      name: record.name,
      domain: record.domain || undefined,
      plan: record.plan,
      enabled: !record.disabled,
      created: record.createdAt,
    });
  }
  return list.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
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
