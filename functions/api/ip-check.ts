import { apiHandler } from '../../shared/http/apiHandler';
import { checkIp, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

/** Every call spends the monthly allowance (the rate meter counts each authenticated call; 402 when spent). */
export const handler = apiHandler(routes.ipCheck, async (req) => ({
  body: await checkIp(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    ip: req.query.ip,
    userAgent: req.query.user_http_header,
  }),
}));
