import { apiHandler } from '../../shared/http/apiHandler';
import { logger } from '../../shared/observability';
import { updateConfig } from '../../shared/properties';
import { routes } from '../../shared/routes';

/**
 * Fields given replace the current ones (botActions level by level); answers the effective config.
 * The plan and the ad-account link are the operator's: 403 unless the admin key sends them.
 */
export const handler = apiHandler(routes.putConfig, async ({ params, body, principal }) => {
  const config = await updateConfig(params.id, body, principal.kind);
  logger.info('config updated', { propertyId: params.id, fields: Object.keys(body), by: principal.kind });
  return { body: config };
});
