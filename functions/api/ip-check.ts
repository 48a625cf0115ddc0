import { apiHandler } from '../../shared/http/apiHandler';
import { notImplemented } from '../../shared/http/errors';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.ipCheck, async () => {
  throw notImplemented('GET /v1/ip-check');
});
