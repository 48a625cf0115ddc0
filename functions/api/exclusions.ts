import { serviceExclusionDeps } from '../../shared/googleAds/accounts';
import { listExclusions } from '../../shared/googleAds/exclusionAudit';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.exclusions, async (req) => {
  const property = await callerConfig(req.principal, req.params.id);
  return { body: await listExclusions(serviceExclusionDeps(req.receivedAt), property, req.query.limit) };
});
