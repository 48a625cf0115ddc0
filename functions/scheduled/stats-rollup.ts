import { ENV, requireEnv } from '../../shared/config/env';
import { logger } from '../../shared/observability';
import { addDays, dayInZone } from '../../shared/reporting/calendar';
import { checkDays, writeRollupSummary } from '../../shared/reporting/rollupCheck';
import { clickStores } from '../../shared/store';
import { forEachProperty } from '../../shared/store/propertyDirectory';
import { s3 } from '../../shared/store/s3Sdk';

/** The rollup check: today's and yesterday's rollups against a recount, summarised to `rollups/<id>/<date>.json`. */
export const handler = async (): Promise<{ done: number; failed: number }> => {
  const now = Date.now();
  const bucket = requireEnv(ENV.bucketName);
  const { done, failed } = await forEachProperty(async ({ propertyId, config }) => {
    const today = dayInZone(now, config.timezone);
    const checks = await checkDays(clickStores(), propertyId, config.timezone, [addDays(today, -1), today]);
    for (const check of checks) {
      await writeRollupSummary({ s3, bucket }, propertyId, check, now);
      if (check.consistent === false) logger.warn('rollup differs from recount', { propertyId, day: check.day });
    }
  });
  if (failed.length > 0) logger.error('rollup check failed for some properties', { failed });
  return { done, failed: failed.length };
};
