import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { handler as beaconScorer } from '../../functions/queue/beacon-scorer';
import { handler as conversionScorer } from '../../functions/queue/conversion-scorer';
import { pollQueue } from '../../infra/local/queues';
import { ensureQueuePair } from '../../infra/local/resources';
import { ingestionDeps, recordClick } from '../../shared/ingestion';
import { type Credentials, startTestStack, type TestStack } from './support';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const context = { awsRequestId: 'queue-test', functionName: 'scorer' } as Context;

let stack: TestStack;
let property: Credentials;
const sqs = new SQSClient({});

beforeAll(async () => {
  stack = await startTestStack({ pollers: false });
  property = await stack.createProperty();
});

afterAll(async () => {
  await stack.stop();
  sqs.destroy();
});

const record = (body: string): SQSRecord =>
  ({
    messageId: `m-${randomBytes(6).toString('hex')}`,
    receiptHandle: 'r',
    body,
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:beacons',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;

/** A click from the test's /24: its first one is stored as judged (version 1), a later one may be corrected (2). */
async function newClick() {
  return recordClick(ingestionDeps(), {
    kind: 'public',
    propertyId: property.id,
    sourceIp: `81.2.69.${Math.floor(Math.random() * 200) + 1}`,
    userAgent: CHROME,
    gclid: `q-${randomBytes(4).toString('hex')}`,
  });
}

const beaconBody = (clickId: string, beaconId: string) =>
  JSON.stringify({
    kind: 'beacon',
    beaconId,
    propertyId: property.id,
    clickId,
    receivedAt: Date.now(),
    behaviour: { honeypot: true },
  });

describe('beacon scorer', () => {
  it('reports only the failing record of a batch; a redelivered record changes nothing', async () => {
    const click = await newClick();
    const before = (await ingestionDeps().clickStores.clicks.getClick(click.click_id))?.version ?? 1;
    const good = record(beaconBody(click.click_id, `good-${click.click_id}`));
    const unknownClick = record(beaconBody('clk_doesnotexist', `gone-${click.click_id}`));
    const poison = record('{"kind":"beacon", not json');
    const event: SQSEvent = { Records: [good, poison, unknownClick] };
    const first = await beaconScorer(event, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);
    const after = await ingestionDeps().clickStores.clicks.getClick(click.click_id);
    expect(after).toMatchObject({ version: before + 1, current: { label: 'FRAUD' } });

    const again = await beaconScorer({ Records: [good] }, context);
    expect(again.batchItemFailures).toEqual([]);
    expect((await ingestionDeps().clickStores.clicks.getClick(click.click_id))?.version).toBe(before + 1);
  });

  it('moves a poison message to the DLQ through the local poller after maxReceiveCount deliveries', async () => {
    const pair = await ensureQueuePair(sqs, `beacons-poison-${randomBytes(4).toString('hex')}`, {
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
    });
    const poller = pollQueue({
      name: 'beaconScorer',
      queueUrl: pair.url,
      queueArn: pair.arn,
      handler: beaconScorer as never,
      batchSize: 10,
      waitTimeSeconds: 1,
      sqs,
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: pair.url, MessageBody: '{"kind":"beacon"}' }));
      const dead = await stack.waitFor(async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: pair.dlqUrl, WaitTimeSeconds: 1 }));
        return out.Messages?.[0];
      }, 30_000);
      expect(dead.Body).toBe('{"kind":"beacon"}');
    } finally {
      await poller.stop();
    }
  });
});

describe('conversion scorer', () => {
  it('applies a conversion once however often it is delivered, and fails only the bad record', async () => {
    const click = await newClick();
    // 1, or 2 when the click path corrected the stored click (a repeat /24: its counts changed its verdict).
    const before = (await ingestionDeps().clickStores.clicks.getClick(click.click_id))?.version ?? 1;
    const message = JSON.stringify({
      kind: 'conversion',
      source: 'webhook',
      trusted: true,
      propertyId: property.id,
      receivedAt: Date.now(),
      clickId: click.click_id,
      currency: 'USD',
    });
    const bad = record(JSON.stringify({ kind: 'conversion', source: 'webhook' }));
    const once = record(message);
    const twice = record(message);
    // Records of a batch run in parallel: the copy that finds the first one's claim still held is
    // reported failed, so SQS redelivers it later, when it changes nothing.
    const first = await conversionScorer({ Records: [once, bad, twice] }, context);
    const failed = first.batchItemFailures.map((f) => f.itemIdentifier);
    expect(failed).toContain(bad.messageId);
    const failedCopies = [once, twice].filter((copy) => failed.includes(copy.messageId));
    expect(failedCopies.length).toBeLessThanOrEqual(1);
    const redelivered = await conversionScorer({ Records: [once, twice] }, context);
    expect(redelivered.batchItemFailures).toEqual([]);
    const stored = await ingestionDeps().clickStores.clicks.getClick(click.click_id);
    expect(stored?.convertedAt).toBeDefined();
    expect(stored?.version).toBe(before + 1);
    const visitor = await ingestionDeps().store.getVisitor(property.id, click.visitor_id, Date.now());
    expect(visitor?.conversions).toBe(1);
  });
});
