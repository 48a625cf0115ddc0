import { apiHandler } from '../../shared/http/apiHandler';
import { logger } from '../../shared/observability';
import { createProperty } from '../../shared/properties';
import { routes } from '../../shared/routes';

/** The only time the secret key and webhook secret are ever shown: only their hashes are stored. */
export const handler = apiHandler(routes.createProperty, async ({ body }) => {
  const { property, publicKey, secretKey, webhookSecret, readonlyKey } = await createProperty(body);
  logger.info('property created', { propertyId: property.id, plan: property.plan });
  return {
    body: {
      id: property.id,
      name: property.name,
      plan: property.plan,
      publicKey,
      secretKey,
      webhookSecret,
      readonlyKey,
    },
    headers: { 'Cache-Control': 'no-store' },
  };
});
