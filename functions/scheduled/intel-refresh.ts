import { ENV, requireEnv } from '../../shared/config/env';
import { type IntelRefreshReport, refreshIntel } from '../../shared/intel/refresh';
import type { SourceDocument, SourceId } from '../../shared/intel/sources';
import { s3Reader } from '../../shared/store/clients';
import { s3 } from '../../shared/store/s3Sdk';

const bucket = requireEnv(ENV.bucketName);

/** `upstream` replaces the URLs of data/ipintel/PROVENANCE.md (tests point it at a local server). */
export function intelRefreshHandler(upstream?: Partial<Record<SourceId, readonly SourceDocument[]>>) {
  return async (): Promise<IntelRefreshReport> => refreshIntel({ s3, reader: s3Reader, bucket, upstream });
}

/**
 * schedules.intelRefresh: refetches every IP-intelligence list from its upstream URL and publishes a new
 * snapshot to `intel/` in the bucket; scoring functions pick it up within 15 minutes.
 */
export const handler = intelRefreshHandler();
