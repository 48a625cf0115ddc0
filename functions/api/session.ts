import { apiHandler } from '../../shared/http/apiHandler';
import { forbidden } from '../../shared/http/errors';
import { callerConfig } from '../../shared/reporting/callerProperty';
import { routes } from '../../shared/routes';

/** Answers who the key belongs to, so the dashboard asks for the key alone. */
export const handler = apiHandler(routes.session, async ({ principal }) => {
  if (principal.kind !== 'secret' && principal.kind !== 'readonly') throw forbidden();
  const { propertyId, config } = await callerConfig(principal);
  return {
    body: {
      propertyId,
      name: config.name,
      kind: principal.kind,
      currency: config.currency,
      timezone: config.timezone,
      monitorOnly: config.monitorOnly,
    },
    headers: { 'Cache-Control': 'no-store' },
  };
});
