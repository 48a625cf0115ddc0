import { apiHandler } from '../../shared/http/apiHandler';
import { idempotencyKeyOf } from '../../shared/http/idempotencyKey';
import { ingestionDeps, propertyOf, recordEvent } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.events, async (req) => {
  const idempotencyKey = idempotencyKeyOf(req.headers);
  const { tracking_key: _key, ...body } = req.body;
  const answer = await recordEvent(ingestionDeps(), {
    kind: req.principal.kind,
    propertyId: propertyOf(req.principal),
    sourceIp: req.sourceIp,
    receivedAt: req.receivedAt,
    body,
    headerUserAgent: req.userAgent,
    idempotencyKey,
  });
  return { body: answer };
});
