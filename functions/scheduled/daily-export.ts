import { logger } from '../../shared/observability';
import { addDays, dayInZone } from '../../shared/reporting/calendar';
import { defaultExportService } from '../../shared/reporting/exports';
import { forEachProperty } from '../../shared/store/propertyDirectory';

/**
 * Each property's settlement CSV of yesterday (its own time zone) to `exports/daily/<propertyId>/<date>.csv`.
 * Idempotent: a file already there is kept, so a rerun (or a second run the same day) writes nothing.
 */
export const handler = async (): Promise<{ done: number; failed: number }> => {
  const now = Date.now();
  const { done, failed } = await forEachProperty(async ({ propertyId, config }) => {
    const day = addDays(dayInZone(now, config.timezone), -1);
    const outcome = await defaultExportService().writeDailyExport(propertyId, config.timezone, day);
    logger.info('daily export', { propertyId, day, outcome });
  });
  if (failed.length > 0) {
    logger.error('daily export failed for some properties', { failed });
    throw new Error(`daily export failed for ${failed.length} properties`);
  }
  return { done, failed: failed.length };
};
