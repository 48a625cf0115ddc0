import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** Placeholder until the conversionScorer is written: every record is reported failed, so messages stay queued and then reach the DLQ. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
});
