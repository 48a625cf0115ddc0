import type { ScheduledEvent } from 'aws-lambda';

/** Placeholder until dailyExport is written. */
export const handler = async (_event: ScheduledEvent): Promise<void> => {
  throw new Error('dailyExport is not implemented yet');
};
