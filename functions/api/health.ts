import { version as packageVersion } from '../../package.json';
import { ENV, optionalEnv } from '../../shared/config/env';
import { apiHandler } from '../../shared/http/apiHandler';
import { routes } from '../../shared/routes';

const version = optionalEnv(ENV.version) ?? packageVersion;

export const handler = apiHandler(routes.health, async () => ({
  body: { status: 'ok', version, time: new Date().toISOString() },
}));
