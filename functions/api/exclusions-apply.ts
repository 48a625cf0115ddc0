import { serviceExclusionDeps } from '../../shared/googleAds/accounts';
import { runExclusions } from '../../shared/googleAds/exclusionRun';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.applyExclusions, async (req) => {
  const property = await callerConfig(req.principal, req.params.id);
  return { body: await runExclusions(serviceExclusionDeps(req.receivedAt), property, req.requestId) };
});
