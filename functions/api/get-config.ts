import { apiHandler } from '../../shared/http/apiHandler';
import { notFound } from '../../shared/http/errors';
import { effectiveConfig, getProperty } from '../../shared/properties';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.getConfig, async ({ params }) => {
  const property = await getProperty(params.id, { fresh: true });
  if (!property) throw notFound('property not found');
  return { body: effectiveConfig(property) };
});
