import { calibration } from '../../shared/dashboard/calibration';
import { apiHandler } from '../../shared/http/apiHandler';
import { rangeDays } from '../../shared/reporting/calendar';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { clickStores, sumCounts } from '../../shared/store';

/** Reads day × shard rollup items only: the cost depends on the range, never on the number of clicks. */
export const handler = apiHandler(routes.calibration, async (req) => {
  const { propertyId, config } = await callerConfig(req.principal, req.params.id);
  const days = rangeDays(req.query.range, req.receivedAt, config.timezone);
  const counts = await clickStores().rollups.readDays(propertyId, days);
  return {
    body: {
      range: req.query.range,
      from: days[0]!,
      to: days.at(-1)!,
      timezone: config.timezone,
      thresholds: config.thresholds,
      ...calibration(sumCounts(counts.values())),
    },
  };
});
