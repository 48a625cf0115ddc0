import { apiHandler } from '../../shared/http/apiHandler';
import { openApiDocument } from '../../shared/openapi';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.openapi, async () => ({
  body: openApiDocument(),
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
