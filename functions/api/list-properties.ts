import { apiHandler } from '../../shared/http/apiHandler';
import { routes } from '../../shared/routes';
import { listProperties } from '../../shared/store/propertyDirectory';

export const handler = apiHandler(routes.listProperties, async () => ({
  body: { properties: await listProperties() },
  headers: { 'Cache-Control': 'no-store' },
}));
