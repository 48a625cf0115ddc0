import { dayFigures, SPEND_ESTIMATE, timeseriesDays } from '../../shared/dashboard/timeseries';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { clickStores, sumCounts } from '../../shared/store';

/** Reads day × shard rollup items only: the cost depends on the range, never on the number of clicks. */
export const handler = apiHandler(routes.timeseries, async (req) => {
  const { propertyId, config } = await callerConfig(req.principal, req.params.id);
  const days = timeseriesDays(req.query.range, req.receivedAt, config.timezone);
  const counts = await clickStores().rollups.readDays(propertyId, days);
  const averageCpc = config.averageCpc ?? null;
  return {
    body: {
      range: req.query.range,
      timezone: config.timezone,
      currency: config.currency,
      averageCpc,
      spendEstimate: SPEND_ESTIMATE,
      days: days.map((date) => ({ date, ...dayFigures(counts.get(date)!, averageCpc) })),
      totals: dayFigures(sumCounts(counts.values()), averageCpc),
    },
  };
});
