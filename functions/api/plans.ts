import { apiHandler } from '../../shared/http/apiHandler';
import { planFileConfig, plans } from '../../shared/plans';
import { routes } from '../../shared/routes';

export const handler = apiHandler(routes.plans, async () => ({
  body: { plans, branding: planFileConfig.branding },
  headers: { 'Cache-Control': 'public, max-age=300' },
}));
