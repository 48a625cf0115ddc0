import type { ScheduledEvent } from 'aws-lambda';

/** Placeholder until blocklistPush is written. */
export const handler = async (_event: ScheduledEvent): Promise<void> => {
  throw new Error('blocklistPush is not implemented yet');
};
