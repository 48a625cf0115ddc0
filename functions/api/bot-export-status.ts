import { apiHandler } from '../../shared/http/apiHandler';
import { notFound } from '../../shared/http/errors';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { defaultExportService } from '../../shared/reporting/exports';
import { routes } from '../../shared/routes';

/** Another property's export id answers 404, like an unknown one: ids are not confirmed to strangers. */
export const handler = apiHandler(routes.botExportStatus, async (req) => {
  const { propertyId } = await callerConfig(req.principal);
  const answer = await defaultExportService().exportStatus(propertyId, req.params.export_id);
  if (!answer) throw notFound('export not found');
  return { body: { code: 0, data: answer } };
});
