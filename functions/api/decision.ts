import { apiHandler } from '../../shared/http/apiHandler';
import { notImplemented } from '../../shared/http/errors';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.decision, async () => {
  throw notImplemented('GET /v1/decision');
});
