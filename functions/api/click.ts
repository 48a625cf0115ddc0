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
    headerUserAgent: req.userAgent,
    ip: body.ip,
    gclid: body.gclid,
    userAgent: body.user_agent,
    referrer: body.referrer,
    pageUrl: body.page_url,
    clickToken: body.click_token,
    visitorId: body.visitor_id,
    idempotencyKey,
  });
  return { body: answer };
});
