import type { ScheduledEvent } from 'aws-lambda';

/** Placeholder until statsRollup is written. */
export const handler = async (_event: ScheduledEvent): Promise<void> => {
  throw new Error('statsRollup is not implemented yet');
};
