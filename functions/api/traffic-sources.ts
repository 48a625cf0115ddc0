import { trafficSources } from '../../shared/dashboard/trafficSources';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.trafficSources, async (req) => {
  const { propertyId } = await callerConfig(req.principal, req.params.id);
  return { body: await trafficSources(propertyId, Date.now()) };
});
