import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import { handler as beacon } from '../../functions/api/beacon';
import { handler as botVerdict } from '../../functions/api/bot-verdict';
import { handler as click } from '../../functions/api/click';
import { handler as clickTokens } from '../../functions/api/click-tokens';
import { handler as conversion } from '../../functions/api/conversion';
import { handler as decision } from '../../functions/api/decision';
import { handler as events } from '../../functions/api/events';
import { handler as ipCheck } from '../../functions/api/ip-check';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * Every ingestion and decision handler, invoked as API Gateway would, with arbitrary JSON, wrong types,
 * huge strings and prototype-pollution keys in the body and the query: the answer is a success or a
 * 4xx with exactly the contract's error body — never a 5xx. Bounded runs: each one really writes to
 * DynamoDB Local.
 */
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

let stack: TestStack;
let property: Credentials;
const context = { awsRequestId: 'fuzz', functionName: 'fuzz' } as Context;
const RUNS = 25;

beforeAll(async () => {
  stack = await startTestStack({ pollers: false });
  property = await stack.createProperty();
});

afterAll(async () => {
  await stack.stop();
});

let host = 0;
function apiEvent(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  query: Record<string, string> | null,
  body: string | null,
): APIGatewayProxyEvent {
  host = (host + 1) % 250;
  return {
    httpMethod: method,
    path,
    resource: path,
    headers,
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: `fuzz-${host}`,
      identity: { sourceIp: `81.2.${Math.floor(Math.random() * 250)}.${host + 1}` },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
const hugeString = fc.string({ minLength: 5000, maxLength: 40_000 });
const anyValue = fc.oneof(
  fc.jsonValue(),
  hugeString,
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.double(),
  fc.integer(),
);

function bodyFor(fields: readonly string[]) {
  return fc.oneof(
    fc.json(),
    fc.string(),
    fc.dictionary(fc.oneof(fc.constantFrom(...fields), hostileKey), anyValue).map((o) => JSON.stringify(o)),
    fc
      .tuple(hostileKey, fc.dictionary(fc.string(), fc.jsonValue()))
      .map(([key, value]) => `{"${key}": ${JSON.stringify(value)}, "${fields[0]}": {"__proto__": {"polluted": true}}}`),
  );
}

function queryFor(fields: readonly string[]) {
  return fc.dictionary(
    fc.oneof(fc.constantFrom(...fields), hostileKey, fc.string()),
    fc.oneof(fc.string(), hugeString),
  );
}

async function expectContract(result: APIGatewayProxyResult): Promise<void> {
  expect(result.statusCode).toBeLessThan(500);
  if (result.statusCode >= 400) {
    const body = JSON.parse(result.body);
    expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error']);
    expect(typeof body.error).toBe('string');
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

const bodyRoutes: Array<[string, Handler, string, () => Record<string, string>, readonly string[]]> = [
  [
    'POST /v1/click',
    click,
    '/v1/click',
    () => ({ 'x-api-key': property.publicKey }),
    ['ip', 'gclid', 'user_agent', 'page_url', 'click_token', 'visitor_id', 'tracking_key'],
  ],
  [
    'POST /v1/events',
    events,
    '/v1/events',
    () => ({ 'x-api-key': property.secretKey }),
    ['type', 'url', 'visitorId', 'gclid', 'ip', 'data', 'click_token'],
  ],
  [
    'POST /v1/click/beacon',
    beacon,
    '/v1/click/beacon',
    () => ({ 'x-api-key': property.publicKey }),
    ['click_id', 'time_on_page', 'scroll_depth', 'mouse_entropy', 'honeypot'],
  ],
  [
    'POST /v1/webhook/conversion',
    conversion,
    '/v1/webhook/conversion',
    () => ({ authorization: `Bearer ${property.webhookSecret}` }),
    ['gclid', 'click_id', 'click_token', 'value', 'currency', 'order_id'],
  ],
  [
    'POST /v1/click-tokens',
    clickTokens,
    '/v1/click-tokens',
    () => ({ 'x-api-key': property.secretKey }),
    ['provider', 'campaign', 'ttl_seconds'],
  ],
];

const queryRoutes: Array<[string, Handler, string, () => Record<string, string>, readonly string[]]> = [
  ['GET /v1/decision', decision, '/v1/decision', () => ({ 'x-api-key': property.secretKey }), ['visitorId']],
  [
    'GET /v1/ip-check',
    ipCheck,
    '/v1/ip-check',
    () => ({ 'x-api-key': property.secretKey }),
    ['ip', 'user_http_header', 'token'],
  ],
  [
    'GET /v1/bot/verdict',
    botVerdict,
    '/v1/bot/verdict',
    () => ({ 'x-app-key': property.publicKey, 'x-app-secret': property.secretKey }),
    ['click_token'],
  ],
];

describe.each(bodyRoutes)('%s with arbitrary bodies', (_name, handler, path, auth, fields) => {
  it('answers a success or a 4xx error body, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyFor(fields),
        fc.constantFrom('application/json', 'text/plain', 'application/xml'),
        async (body, type) => {
          const result = await handler(
            apiEvent('POST', path, { ...auth(), 'content-type': type }, null, body),
            context,
          );
          await expectContract(result);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe.each(queryRoutes)('%s with arbitrary queries', (_name, handler, path, auth, fields) => {
  it('answers a success or a 4xx error body, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(queryFor(fields), async (query) => {
        const result = await handler(apiEvent('GET', path, auth(), query, null), context);
        await expectContract(result);
      }),
      { numRuns: RUNS },
    );
  });
});
