import { apiHandler } from '../../shared/http/apiHandler';
import { ingestionDeps, issueToken, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.clickTokens, async (req) => {
  const { body } = req;
  const issued = await issueToken(ingestionDeps(), {
    propertyId: propertyOf(req.principal),
    provider: body.provider,
    ttlSeconds: body.ttl_seconds,
    campaign: body.campaign,
  });
  return { status: 201, body: issued };
});
