import { apiHandler } from '../../shared/http/apiHandler';
import { notImplemented } from '../../shared/http/errors';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.conversion, async () => {
  throw notImplemented('POST /v1/webhook/conversion');
});
