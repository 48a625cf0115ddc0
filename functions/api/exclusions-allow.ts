import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { exclusionLedger } from '../../shared/store';

export const handler = apiHandler(routes.allowExclusion, async (req) => {
  const { propertyId } = await callerConfig(req.principal, req.params.id);
  await exclusionLedger().allow(propertyId, req.query.value);
  return {};
});
