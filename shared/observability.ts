import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One configured logger and metrics sink for every function. Log ids, never payloads or secrets. */
export const logger = new Logger({ serviceName: 'clicksieve' });
export const metrics = new Metrics({ namespace: 'clicksieve', serviceName: 'clicksieve' });
