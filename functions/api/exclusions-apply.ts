import { serviceExclusionDeps } from '../../shared/googleAds/accounts';
import { applyExclusionsNow } from '../../shared/googleAds/exclusionAudit';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.applyExclusions, async (req) => {
  const property = await callerConfig(req.principal, req.params.id);
  return { body: await applyExclusionsNow(serviceExclusionDeps(req.receivedAt), property, req.requestId) };
});
