import { apiHandler } from '../../shared/http/apiHandler';
import { listProperties } from '../../shared/reporting/propertyDirectory';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.listProperties, async () => ({
  body: { properties: await listProperties() },
  headers: { 'Cache-Control': 'no-store' },
}));
