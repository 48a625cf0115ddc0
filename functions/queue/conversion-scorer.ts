import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { applyConversion, ConversionMessage, ingestionDeps } from '../../shared/ingestion';
import { logger } from '../../shared/observability';

const processor = new BatchProcessor(EventType.SQS);

/**
 * Applies conversions: the click gains the converted visitor's trust, the visitor counts it, and the
 * click's traffic sources count a conversion (source quality). Failed records are reported alone and
 * redelivered, then land in the DLQ; a conversion applied twice changes nothing (see applyConversion).
 */
async function recordHandler(record: SQSRecord): Promise<void> {
  const message = ConversionMessage.parse(JSON.parse(record.body));
  const result = await applyConversion(ingestionDeps(), message);
  logger.info('conversion', { messageId: record.messageId, clickId: message.clickId, result });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
