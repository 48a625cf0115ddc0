import { apiHandler } from '../../shared/http/apiHandler';
import { decideVisitor, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.decision, async (req) => ({
  body: await decideVisitor(ingestionDeps(), { propertyId: propertyOf(req.principal), visitorId: req.query.visitorId }),
}));
