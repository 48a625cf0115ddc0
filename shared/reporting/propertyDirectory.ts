import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../config/env';
import { prefetchedPages } from '../decisions/sortedMerge';
import { logger } from '../observability';
import { type EffectiveConfig, effectiveConfig, type PropertyRecord } from '../properties';
import { documentClient } from '../storage/clients';

/**
 * Every property, for the scheduled jobs only (never a request path). The property items
 * (`PROP#<id>` / `META`, written by shared/properties) are in no index, so this is a filtered Scan:
 * it reads the whole table, which is acceptable for jobs running hourly/daily on small tables. If the
 * table grows large, the cheaper route is a sparse index on the META items (e.g. gsi2pk = `PROPS`),
 * written by the property store, and a Query here.
 */
export async function* allProperties(): AsyncGenerator<{ propertyId: string; config: EffectiveConfig }> {
  const tableName = requireEnv(ENV.tableName);
  const items = prefetchedPages<Record<string, unknown>, Record<string, unknown>>(async (cursor) => {
    const page = await documentClient.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk = :meta AND begins_with(pk, :prop)',
        ExpressionAttributeValues: { ':meta': 'META', ':prop': 'PROP#' },
        ExclusiveStartKey: cursor,
      }),
    );
    return { items: page.Items ?? [], next: page.LastEvaluatedKey };
  });
  for await (const item of items) {
    const { pk: _pk, sk: _sk, ...property } = item;
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
