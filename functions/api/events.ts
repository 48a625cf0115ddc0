import { apiHandler } from '../../shared/http/apiHandler';
import { invalidRequest } from '../../shared/http/errors';
import { ingestionDeps, propertyOf, recordEvent } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

const MAX_IDEMPOTENCY_KEY = 256;

export const handler = apiHandler(routes.events, async (req) => {
  const idempotencyKey = req.headers['idempotency-key'];
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    throw invalidRequest('invalid header: Idempotency-Key', {
      in: 'header',
      fields: { 'Idempotency-Key': `1 to ${MAX_IDEMPOTENCY_KEY} characters` },
    });
  }
  const { tracking_key: _key, ...body } = req.body;
  const answer = await recordEvent(ingestionDeps(), {
    kind: req.principal.kind,
    propertyId: propertyOf(req.principal),
    sourceIp: req.sourceIp,
    receivedAt: req.receivedAt,
    body,
    ...(req.userAgent !== undefined ? { headerUserAgent: req.userAgent } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  });
  return { body: answer };
});
