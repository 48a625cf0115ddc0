import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { logger } from '../../shared/observability';
import { defaultExportService } from '../../shared/reporting/exports';
import { queueConsumers } from '../../shared/routes';

const ExportMessage = z.object({ exportId: z.string().regex(/^exp_[A-Za-z0-9_-]+$/) });
const processor = new BatchProcessor(EventType.SQS);

/**
 * Writes one export job per message. Idempotent through the job's status: a redelivered message finds the
 * job ready and does nothing. A malformed message is dropped (logged), since retrying cannot fix it.
 */
async function writeExport(record: SQSRecord): Promise<void> {
  const parsed = ExportMessage.safeParse(safeJson(record.body));
  if (!parsed.success) {
    logger.error('malformed export message dropped', { messageId: record.messageId });
    return;
  }
  const deliveries = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const lastAttempt = deliveries >= queueConsumers.exportWriter.maxReceiveCount;
  const outcome = await defaultExportService().runExportJob(parsed.data.exportId, { lastAttempt });
  logger.info('export message handled', { exportId: parsed.data.exportId, outcome, deliveries });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, writeExport, processor, { context });
