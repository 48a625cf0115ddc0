import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authenticator, DEFERRED, DEFERRED_USAGE_KEY, presentedCredential } from '../../shared/auth/principal';
import { ApiError } from '../../shared/http/errors';
import { logger } from '../../shared/observability';
import { definedOnly } from '../../shared/optional';
import { type RouteDef, routes } from '../../shared/routes';

const lowerCase = (headers: Record<string, string | undefined> | null | undefined) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));

const routeOf = (event: APIGatewayRequestAuthorizerEvent): RouteDef | undefined =>
  Object.values(routes).find((route) => route.method === event.httpMethod && route.path === event.resource);

const policy = (effect: 'Allow' | 'Deny', event: APIGatewayRequestAuthorizerEvent, principalId: string) => ({
  principalId,
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
  },
});

/**
 * REQUEST authorizer for every authenticated route, running the same `authenticate` as the functions.
 * Valid: Allow with context {propertyId, kind, planId} and the property's usage key as
 * `usageIdentifierKey`, so its usage plan applies. Missing or invalid: "Unauthorized" (401).
 * Anything the authorizer cannot answer in the contract's own words — a credential that may be in
 * the body (browser routes), 402/403, a failed read — is Allowed as `deferred` with the deferred usage
 * key (without one, a route under a usage plan would answer API Gateway's 401 instead), and the function
 * authenticates again and answers with the exact error body, as the local gateway does. The policy
 * names only this method, so the authorizer's result cache must stay off (it is also what makes
 * rotation effective at once).
 */
export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  const route = routeOf(event);
  if (!route) return policy('Deny', event, 'unknown-route');
  const headers = lowerCase(event.headers);
  const query = event.queryStringParameters ?? {};
  const deferred = {
    ...policy('Allow', event, DEFERRED),
    context: { kind: DEFERRED },
    usageIdentifierKey: DEFERRED_USAGE_KEY,
  };
  try {
    const presented = presentedCredential(route, headers, query, undefined);
    if (!presented) {
      if (route.browser) return deferred;
      throw new Error('Unauthorized');
    }
    const { principal, property } = await authenticator().authenticateRequest({
      route,
      headers,
      query,
      pathParameters: event.pathParameters,
      bodyTrackingKey: undefined,
      sourceIp: event.requestContext?.identity?.sourceIp ?? '0.0.0.0',
    });
    return {
      ...policy('Allow', event, principal.propertyId ?? principal.kind),
      context: definedOnly({ kind: principal.kind, propertyId: principal.propertyId, planId: principal.planId }),
      ...definedOnly({ usageIdentifierKey: property?.usageKey }),
    };
  } catch (error) {
    if (error instanceof ApiError && error.statusCode === 401) throw new Error('Unauthorized');
    if (error instanceof Error && error.message === 'Unauthorized') throw error;
    if (!(error instanceof ApiError)) {
      logger.warn('authorizer deferred after an error', { path: event.resource, name: (error as Error)?.name });
    }
    return deferred;
  }
};
