import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { handler } from '../../../functions/api/authorizer';
import { createAuthenticator, DEFERRED_USAGE_KEY, useAuthenticator } from '../../../shared/auth/principal';
import { propertyService, useProperties } from '../../../shared/properties/service';
import { type RouteDef, routes } from '../../../shared/routes';
import { world } from './fixtures';

const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/v1/decision';

const event = (
  route: RouteDef,
  headers: Record<string, string>,
  pathParameters: Record<string, string> | null = null,
): APIGatewayRequestAuthorizerEvent =>
  ({
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    resource: route.path,
    path: route.path,
    httpMethod: route.method,
    headers,
    queryStringParameters: null,
    pathParameters,
    requestContext: { identity: { sourceIp: '198.51.100.1' } },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('REQUEST authorizer', () => {
  let fixture: Awaited<ReturnType<typeof world>>;

  beforeEach(async () => {
    fixture = await world();
    useProperties(fixture.service);
    useAuthenticator(createAuthenticator({ lookup: fixture.service, adminKey: async () => false }));
  });
  afterAll(() => {
    useProperties(undefined);
    useAuthenticator(undefined);
  });

  it("allows a valid key for this method only, with the property's context and usage key", async () => {
    const result = await handler(event(routes.decision, { 'X-Api-Key': fixture.a.secretKey }));
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN },
    ]);
    expect(result.context).toEqual({ kind: 'secret', propertyId: fixture.a.property.id, planId: 'starter' });
    expect(result.usageIdentifierKey).toBe(fixture.a.property.usageKey);
    expect(result.usageIdentifierKey).not.toBe(fixture.a.secretKey);
  });

  it('answers Unauthorized (401) for a missing or unknown credential', async () => {
    await expect(handler(event(routes.decision, {}))).rejects.toThrow('Unauthorized');
    await expect(handler(event(routes.decision, { 'x-api-key': 'sk_nope' }))).rejects.toThrow('Unauthorized');
  });

  it('defers what it cannot answer in the contract’s words — body keys, 403, 402, a failed read — with the deferred usage key', async () => {
    // Without a usage key, a method under a usage plan would end in API Gateway's 401 on AWS.
    const deferred = (result: Awaited<ReturnType<typeof handler>>) => {
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: METHOD_ARN });
      expect(result.context).toEqual({ kind: 'deferred' });
      expect(result.usageIdentifierKey).toBe(DEFERRED_USAGE_KEY);
    };
    deferred(await handler(event(routes.click, {})));
    // 403: a public key on a secret route, another property's id.
    deferred(await handler(event(routes.decision, { 'x-api-key': fixture.a.publicKey })));
    deferred(
      await handler(event(routes.getConfig, { 'x-api-key': fixture.a.secretKey }, { id: fixture.b.property.id })),
    );
    // 402: a disabled property.
    await fixture.store.update(fixture.a.property.id, { disabled: true }, new Date().toISOString());
    const uncached = propertyService({ store: fixture.store });
    useAuthenticator(createAuthenticator({ lookup: uncached, adminKey: async () => false }));
    deferred(await handler(event(routes.decision, { 'x-api-key': fixture.a.secretKey })));
    // A storage blip.
    useAuthenticator(
      createAuthenticator({
        lookup: {
          findCredential: async () => {
            throw new Error('ProvisionedThroughputExceededException');
          },
          getProperty: async () => undefined,
        },
        adminKey: async () => false,
      }),
    );
    deferred(await handler(event(routes.decision, { 'x-api-key': fixture.b.secretKey })));
  });

  it('denies a method that is not in the route table', async () => {
    const result = await handler({ ...event(routes.decision, {}), resource: '/v1/nothing' });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
  });
});
