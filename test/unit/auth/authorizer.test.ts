import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { handler } from '../../../functions/api/authorizer';
import { createAuthenticator, useAuthenticator } from '../../../shared/auth/principal';
import { useProperties } from '../../../shared/properties/service';
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

  it('defers what it cannot answer in the contract’s words: body keys, 403, 402', async () => {
    const deferred = { kind: 'deferred' };
    expect((await handler(event(routes.click, {}))).context).toEqual(deferred);
    expect((await handler(event(routes.decision, { 'x-api-key': fixture.a.publicKey }))).context).toEqual(deferred);
    const other = event(routes.getConfig, { 'x-api-key': fixture.a.secretKey }, { id: fixture.b.property.id });
    const result = await handler(other);
    expect(result.context).toEqual(deferred);
    expect(result.usageIdentifierKey).toBeUndefined();
  });

  it('denies a method that is not in the route table', async () => {
    const result = await handler({ ...event(routes.decision, {}), resource: '/v1/nothing' });
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
  });
});
