import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { applyBeacon, BeaconMessage, ingestionDeps } from '../../shared/ingestion';
import { logger } from '../../shared/observability';

const processor = new BatchProcessor(EventType.SQS);

/**
 * Re-scores clicks from landing-page beacons. A record that fails is reported alone (partial batch
 * response) and redelivered; after maxReceiveCount deliveries it lands in the DLQ. A body that does not
 * parse fails every time, so it goes there too. Applying a beacon twice changes nothing (see applyBeacon).
 */
async function recordHandler(record: SQSRecord): Promise<void> {
  const message = BeaconMessage.parse(JSON.parse(record.body));
  const result = await applyBeacon(ingestionDeps(), message);
  logger.info('beacon', { messageId: record.messageId, clickId: message.clickId, result });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
