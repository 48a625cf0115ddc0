import { apiHandler } from '../../shared/http/apiHandler';
import { idempotencyKeyOf } from '../../shared/http/idempotencyKey';
import { ingestionDeps, propertyOf, recordClick } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.click, async (req) => {
  const { body } = req;
  const idempotencyKey = idempotencyKeyOf(req.headers);
  const answer = await recordClick(ingestionDeps(), {
    kind: req.principal.kind,
    propertyId: propertyOf(req.principal),
    sourceIp: req.sourceIp,
    ...(req.userAgent !== undefined ? { headerUserAgent: req.userAgent } : {}),
    ...(body.ip !== undefined ? { ip: body.ip } : {}),
    ...(body.gclid !== undefined ? { gclid: body.gclid } : {}),
    ...(body.user_agent !== undefined ? { userAgent: body.user_agent } : {}),
    ...(body.referrer !== undefined ? { referrer: body.referrer } : {}),
    ...(body.page_url !== undefined ? { pageUrl: body.page_url } : {}),
    ...(body.click_token !== undefined ? { clickToken: body.click_token } : {}),
    ...(body.visitor_id !== undefined ? { visitorId: body.visitor_id } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  });
  return { body: answer };
});
