import { apiHandler } from '../../shared/http/apiHandler';
import { rangeDays } from '../../shared/reporting/calendar';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { propertyStats } from '../../shared/reporting/summaries';
import { routes } from '../../shared/routes';
import { clickStores, sumCounts } from '../../shared/store';

/** Reads day × shard rollup items only: the cost depends on the range, never on the number of clicks. */
export const handler = apiHandler(routes.propertyStats, async (req) => {
  const { propertyId, config } = await callerConfig(req.principal, req.params.id);
  const days = rangeDays(req.query.range, req.receivedAt, config.timezone);
  const counts = await clickStores().rollups.readDays(propertyId, days);
  return { body: propertyStats(sumCounts(counts.values())) };
});
