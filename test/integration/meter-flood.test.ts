import { randomBytes } from 'node:crypto';
import { ENV, requireEnv } from '../../shared/config/env';
import { createRateMeter, type RateMeter, useRateMeter } from '../../shared/http/rateLimit';
import { findPlan, type Plan } from '../../shared/plans';
import { routes } from '../../shared/routes';
import { QueryCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { DynamoMeterStore } from '../../shared/store/meter';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * The batched rate meter tried as a fraudster with only the public key would: a flood of clicks on one
 * property from many addresses (a botnet: each address stays under the per-address limit), through the
 * local stack over HTTP, served by two function containers that each batch their counts. The property's
 * plan is shrunk to 120 requests a minute so the flood passes it in seconds; the meter is the real one on
 * DynamoDB Local.
 */
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const RATE = 120;
const CONTAINERS = 2;
const N = 20;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ pollers: false, env: { CLICKSIEVE_TRUST_PROXY: '1' } });
});

afterAll(async () => {
  useRateMeter(undefined);
  await stack.stop();
});

/** Requests of one minute alternate between containers, as API Gateway spreads them over warm instances. */
function fleet(meters: readonly RateMeter[]): RateMeter {
  let next = 0;
  return {
    refuseAddress: (...args) => meters[0]!.refuseAddress(...args),
    lastState: (...args) => meters[0]!.lastState(...args),
    meter: (...args) => meters[next++ % meters.length]!.meter(...args),
  };
}

const storedCount = async (property: Credentials, attribute: string) => {
  const { Items = [] } = await documentClient.send(
    new QueryCommand({
      TableName: requireEnv(ENV.tableName),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `METER#${property.id}#0` },
    }),
  );
  return Items.reduce((sum, item) => sum + Number(item[attribute] ?? 0), 0);
};

describe('a public-key flood on one property', () => {
  it(`is cut off at the plan's rate plus at most containers × N (${CONTAINERS} × ${N})`, async () => {
    const property = await stack.createProperty({ plan: 'starter' });
    const small: Plan = { ...findPlan('starter')!, ratePerMinute: RATE };
    const store = new DynamoMeterStore(documentClient, requireEnv(ENV.tableName));
    const meters = Array.from({ length: CONTAINERS }, () =>
      createRateMeter({ store, plan: () => small, batching: { requests: N, maxAgeMs: 10_000 } }),
    );
    useRateMeter(fleet(meters));
    // Stay inside one minute so the window cannot roll over mid-flood.
    const secondsLeft = 60 - (Math.floor(Date.now() / 1000) % 60);
    if (secondsLeft < 30) await new Promise((resolve) => setTimeout(resolve, secondsLeft * 1000 + 100));
    const minute = `m${String(new Date().getUTCMinutes()).padStart(2, '0')}`;

    const statuses: number[] = [];
    const refusals: { code?: string; details?: { limit?: string } }[] = [];
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < 240) {
          const i = sent++;
          const answer = await stack.fetchJson('/v1/click', {
            body: { tracking_key: property.publicKey, user_agent: CHROME, visitor_id: `vis_flood${i}` },
            headers: { 'x-forwarded-for': `81.${3 + (i >> 8)}.${i & 255}.${randomBytes(1)[0]! | 1}` },
          });
          statuses.push(answer.status);
          if (answer.status === 429) {
            refusals.push(answer.body);
            expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
            expect(answer.headers.get('x-ratelimit-remaining')).toBe('0');
          }
        }
      }),
    );
    const admitted = statuses.filter((status) => status === 200).length;
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(RATE);
    expect(admitted).toBeLessThanOrEqual(RATE + CONTAINERS * N);
    expect(refusals.length).toBe(240 - admitted);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'plan' } });

    // Refused requests counted nothing; the admitted ones are all in the table once both containers have
    // written what they hold (their next request writes it, refused or not).
    const server = { kind: 'secret' as const, propertyId: property.id, planId: 'starter' };
    for (const meter of meters) await meter.meter(server, routes.click, Date.now() + 60_000);
    expect(await storedCount(property, minute)).toBe(admitted);
  });
});
