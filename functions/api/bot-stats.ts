import { apiHandler } from '../../shared/http/apiHandler';
import { invalidRequest } from '../../shared/http/errors';
import { dateRangeProblem, daysFrom } from '../../shared/reporting/calendar';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { botStats } from '../../shared/reporting/summaries';
import { routes } from '../../shared/routes';
import { clickStores, sumCounts } from '../../shared/store';

/** `from`/`to` are days in the property's time zone, both included. */
export const handler = apiHandler(routes.botStats, async (req) => {
  const { from, to } = req.query;
  const problem = dateRangeProblem(from, to);
  if (problem) throw invalidRequest('invalid query: date range', { in: 'query', fields: problem });
  const { propertyId } = await callerConfig(req.principal);
  const counts = await clickStores().rollups.readDays(propertyId, daysFrom(from, to));
  return { body: botStats(from, to, sumCounts(counts.values())) };
});
