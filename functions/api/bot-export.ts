import { apiHandler } from '../../shared/http/apiHandler';
import { invalidRequest } from '../../shared/http/errors';
import { dateRangeProblem } from '../../shared/reporting/calendar';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { defaultExportService } from '../../shared/reporting/exports';
import { routes } from '../../shared/routes';

/** Small ranges answer 200 with a presigned URL; larger ones 202 with an export id to poll. */
export const handler = apiHandler(routes.botExport, async (req) => {
  const { from, to } = req.query;
  const problem = dateRangeProblem(from, to);
  if (problem) throw invalidRequest('invalid query: date range', { in: 'query', fields: problem });
  const { propertyId, config } = await callerConfig(req.principal);
  const { httpStatus, answer } = await defaultExportService().requestExport(propertyId, config.timezone, from, to);
  return { status: httpStatus, body: { code: 0, data: answer } };
});
