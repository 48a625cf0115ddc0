import { type DynamoDBDocumentClient, UpdateCommand } from '../shared/store/aws/dynamodb';

/** The load the bench sends: every figure of the click path is measured on the same traffic. */

export const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** The visitor's address of click i: each click its own address; the /24 (`81.x.<i mod 256>`) repeats every 256 clicks. */
export const visitorIp = (i: number) => `81.${2 + ((i >> 16) & 63)}.${i & 255}.${(i >> 8) & 255}`;

/**
 * The body of an ordinary server-side click (the advertiser's server, with the secret key): each click its own
 * visitor and address, and the 200 measured clicks each their own /24 (200 clicks from one /24 within seconds are
 * a fraud burst, whose extra writes — the addresses' blocklist records — are not the typical cost). Longer runs
 * (the throughput, the container's CPU) come back to each /24 every 256 clicks: repeat /24s, which the click path
 * stores after their counts (shared/ingestion/speculation.ts). `run` keeps gclids apart between runs on one table.
 */
export const serverClickBody = (i: number, run = 'bench') => ({
  ip: visitorIp(i),
  user_agent: UA,
  gclid: `${run}-${i}`,
  visitor_id: `vis_${run}${i}`,
  page_url: `https://shop.example/?gclid=${run}-${i}&campaignid=${i % 7}&network=g`,
});

/**
 * DynamoDB Local's own rate is measured with this UpdateItem: one counter attribute and a TTL, on 64 items per
 * worker (the cheapest write a click path could make), under the property's id so runs on one table stay apart.
 */
export const referenceUpdate =
  (client: DynamoDBDocumentClient, tableName: string, propertyId: string) => (worker: number, i: number) =>
    client
      .send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: `BENCH#${propertyId}#${worker}#${i % 64}`, sk: 'BENCH' },
          UpdateExpression: 'ADD n :one SET expiresAt = :exp',
          ExpressionAttributeValues: { ':one': 1, ':exp': Math.floor(Date.now() / 1000) + 3600 },
        }),
      )
      .then(() => undefined);

/** `concurrency` workers calling `step` until `ms` have passed: the steps done and the seconds taken. */
export async function concurrently(
  concurrency: number,
  ms: number,
  step: (worker: number, i: number) => Promise<void>,
): Promise<{ done: number; seconds: number }> {
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() - started < ms; i++) {
        await step(worker, i);
        done++;
      }
    }),
  );
  return { done, seconds: (performance.now() - started) / 1000 };
}
