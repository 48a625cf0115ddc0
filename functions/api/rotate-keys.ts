import { apiHandler } from '../../shared/http/apiHandler';
import { logger } from '../../shared/observability';
import { rotateKeys } from '../../shared/properties';
import { routes } from '../../shared/routes';

/** Admin, or the property's own secret key (authorized in apiHandler); the old values fail at once. */
export const handler = apiHandler(routes.rotateKeys, async ({ params, body, principal }) => {
  const rotated = await rotateKeys(params.id, body.which);
  logger.info('keys rotated', { propertyId: params.id, which: body.which, by: principal.kind });
  return { body: { id: params.id, ...rotated }, headers: { 'Cache-Control': 'no-store' } };
});
