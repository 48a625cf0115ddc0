import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CountMessage, countClicks, ingestionDeps } from '../../shared/ingestion';
import { logger } from '../../shared/observability';

/**
 * The click counter: counts a batch of stored clicks and changed verdicts into the daily rollups and the
 * blocklist's address records (see shared/ingestion/counting.ts). Messages whose click is not readable
 * yet are reported as failures and come back after the visibility timeout; a body that does not parse
 * fails every time and ends in the DLQ. Any other failure fails the batch, which is safe to count again.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  const messages: Array<{ id: string; message: CountMessage }> = [];
  for (const record of event.Records) {
    const parsed = CountMessage.safeParse(safeJson(record.body));
    if (parsed.success) messages.push({ id: record.messageId, message: parsed.data });
    else {
      logger.error('count message does not parse', { messageId: record.messageId });
      failures.push(record.messageId);
    }
  }
  const result = await countClicks(
    ingestionDeps(),
    messages.map((m) => m.message),
  );
  const waiting = new Set(result.waiting);
  for (const { id, message } of messages) if (waiting.has(message)) failures.push(id);
  logger.debug('counted', { counted: result.counted, waiting: waiting.size, dropped: result.dropped });
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
