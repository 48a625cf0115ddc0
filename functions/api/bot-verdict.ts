import { apiHandler } from '../../shared/http/apiHandler';
import { botVerdict, ingestionDeps, propertyOf } from '../../shared/ingestion';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.botVerdict, async (req) => ({
  body: await botVerdict(ingestionDeps(), { propertyId: propertyOf(req.principal), clickToken: req.query.click_token }),
}));
