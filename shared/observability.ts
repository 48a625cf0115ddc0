import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One configured logger for every function; the API functions' middy chain adds the Lambda context (request
 * id, cold start) to each line. Log ids, never payloads or secrets.
 */
export const logger = new Logger({ serviceName: 'clicksieve' });
