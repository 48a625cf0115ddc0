import { serviceExclusionDeps } from '../../shared/googleAds/accounts';
import { planExclusions } from '../../shared/googleAds/exclusionRun';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.exclusionsPlan, async (req) => {
  const property = await callerConfig(req.principal, req.params.id);
  return { body: await planExclusions(serviceExclusionDeps(req.receivedAt), property) };
});
