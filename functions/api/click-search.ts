import { type ClickQuery, findClicks } from '../../shared/dashboard/clickExplorer';
import { apiHandler } from '../../shared/http/apiHandler';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';
import { clickStores } from '../../shared/store';

export const handler = apiHandler(routes.clickSearch, async (req) => {
  const { propertyId, config } = await callerConfig(req.principal, req.params.id);
  const { clickId, gclid, visitorId, ip, days } = req.body;
  const query: ClickQuery =
    clickId !== undefined
      ? { clickId }
      : gclid !== undefined
        ? { gclid, days }
        : visitorId !== undefined
          ? { visitorId, days }
          : { ip: ip!, days };
  const stores = clickStores();
  const result = await findClicks(stores, propertyId, config, query, req.receivedAt);
  return { body: result, headers: { 'Cache-Control': 'no-store' } };
});
