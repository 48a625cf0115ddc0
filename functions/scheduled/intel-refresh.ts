import { ENV, requireEnv } from '../../shared/config/env';
import { type IntelRefreshReport, refreshIntel } from '../../shared/intel/refresh';
import { s3 } from '../../shared/storage/clients';

const bucket = requireEnv(ENV.bucketName);

/**
 * schedules.intelRefresh: refetches every IP-intelligence list from its upstream URL and publishes a new
 * snapshot to `intel/` in the bucket; scoring functions pick it up within 15 minutes.
 */
export const handler = async (): Promise<IntelRefreshReport> => refreshIntel({ s3, bucket });
