import { apiHandler } from '../../shared/http/apiHandler';
import { logger } from '../../shared/observability';
import { updateConfig } from '../../shared/properties';
import { routes } from '../../shared/routes';

/** Fields given replace the current ones (botActions level by level); answers the effective config. */
export const handler = apiHandler(routes.putConfig, async ({ params, body }) => {
  const config = await updateConfig(params.id, body);
  logger.info('config updated', { propertyId: params.id, fields: Object.keys(body) });
  return { body: config };
});
