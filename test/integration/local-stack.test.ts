import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type Emulators, LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators } from '../../infra/local/emulators';
import { pollQueue } from '../../infra/local/queues';
import { ensureQueuePair } from '../../infra/local/resources';
import { UsagePlans } from '../../infra/local/usagePlans';
import { MAX_BODY_BYTES } from '../../shared/http/apiHandler';
import { defaultPlan } from '../../shared/plans';
import { startTestStack, type TestStack } from './support';

const received: SQSRecord[] = [];
let stack: TestStack;
const sqs = new SQSClient({});

beforeAll(async () => {
  stack = await startTestStack({
    consumers: {
      beaconScorer: async (event: SQSEvent) => {
        received.push(...event.Records);
      },
    },
  });
});

afterAll(async () => {
  await stack.stop();
  sqs.destroy();
});

describe('local gateway routing', () => {
  it('answers an unknown path with 404 and the contract error body', async () => {
    const res = await stack.fetchJson('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.body).toEqual({ error: expect.any(String), code: 'NOT_FOUND', details: {} });
  });

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    const res = await stack.fetchJson('/v1/health', { method: 'PUT', body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(res.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { allowed: ['GET'] } });
  });

  it('lists every method of a path with two routes', async () => {
    const res = await stack.fetchJson('/v1/properties/prop_1/config', { method: 'POST', body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PUT');
  });

  it('answers a CORS preflight on browser routes, not on server routes', async () => {
    const preflight = await stack.fetch('/v1/click', {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const server = await stack.fetchJson('/v1/properties', { method: 'OPTIONS' });
    expect(server.status).toBe(405);
    expect(server.body).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('refuses a body past 32 KiB with 413, by Content-Length', async () => {
    const res = await stack.fetchJson('/v1/click', { method: 'POST', body: { pad: 'x'.repeat(MAX_BODY_BYTES) } });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', error: expect.any(String) });
  });

  it('refuses a chunked body past 32 KiB with 413 without reading all of it', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${stack.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // 64 KiB in 1 KiB chunks, then the stream stays open: the answer must come before its end.
      for (let i = 0; i < 64; i++) req.write('x'.repeat(1024));
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('runs the authorizer before an authenticated route: no credential, 401 in the error body', async () => {
    const res = await stack.fetchJson('/v1/decision?visitorId=vis_1');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: expect.any(String), code: 'UNAUTHORIZED', details: {} });
  });

  it.each(['/v1/health', '/v1/plans'])('serves %s through its handler', async (path) => {
    const res = await stack.fetchJson(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual(
      path === '/v1/health'
        ? expect.objectContaining({ status: 'ok' })
        : expect.objectContaining({ plans: expect.any(Array) }),
    );
  });
});

describe('local SQS event source', () => {
  it('delivers a message sent to the beacons queue to its consumer as an SQSEvent', async () => {
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.beacons.url, MessageBody: '{"click_id":"clk_1"}' }),
    );
    const record = await stack.waitFor(() => received.find((r) => r.messageId === sent.MessageId));
    expect(record.body).toBe('{"click_id":"clk_1"}');
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toBe(stack.queues.beacons.arn);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
  });

  it('redelivers a record reported failed and moves it to the DLQ after maxReceiveCount', async () => {
    const queue = await ensureQueuePair(sqs, `clicksieve-redrive-${Date.now()}`, {
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
    });
    const deliveries: Array<{ body: string; count: string }> = [];
    const poller = pollQueue({
      name: 'redrive-test',
      queueUrl: queue.url,
      batchSize: 10,
      waitTimeSeconds: 1,
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        deliveries.push(...event.Records.map((r) => ({ body: r.body, count: r.attributes.ApproximateReceiveCount })));
        return {
          batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'good' }));
      const dead = await stack.waitFor(async () => {
        const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, WaitTimeSeconds: 1 }));
        return res.Messages?.[0];
      }, 15_000);
      expect(dead.Body).toBe('poison');
      expect(deliveries.filter((d) => d.body === 'poison').map((d) => d.count)).toEqual(['1', '2']);
      expect(deliveries.filter((d) => d.body === 'good')).toHaveLength(1);
    } finally {
      await poller.stop();
    }
  });
});

describe('local usage plan', () => {
  it('throttles past the burst with a Retry-After and refills at the plan rate', () => {
    const plans = new UsagePlans();
    const plan = defaultPlan();
    const now = Date.now();
    for (let i = 0; i < plan.burst; i++) expect(plans.admit('key', plan.id, now).ok).toBe(true);
    const throttled = plans.admit('key', plan.id, now);
    expect(throttled).toMatchObject({ ok: false, reason: 'rate', retryAfterSeconds: expect.any(Number) });
    expect(plans.admit('key', plan.id, now + Math.ceil(60_000 / plan.ratePerMinute)).ok).toBe(true);
    expect(plans.admit('other-key', plan.id, now).ok).toBe(true);
    plans.close();
  });
});

describe('local state across restarts', () => {
  it('keeps table items, bucket objects and unconsumed messages in the data directory', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'clicksieve-restart-'));
    try {
      const first = await startEmulators({ dataDir });
      const clients = emulatorClients(first.endpoints);
      await clients.dynamo.send(
        new PutItemCommand({ TableName: first.env.TABLE_NAME, Item: { pk: { S: 'TEST#restart' }, sk: { S: 'X' } } }),
      );
      await clients.s3.send(new PutObjectCommand({ Bucket: first.env.BUCKET_NAME, Key: 'restart.txt', Body: 'kept' }));
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: first.env.QUEUE_URL_BEACONS, MessageBody: 'unconsumed' }),
      );
      clients.destroy();
      await first.stop();

      const second = await startEmulators({ dataDir });
      const again = emulatorClients(second.endpoints);
      try {
        const item = await again.dynamo.send(
          new GetItemCommand({ TableName: second.env.TABLE_NAME, Key: { pk: { S: 'TEST#restart' }, sk: { S: 'X' } } }),
        );
        expect(item.Item).toBeDefined();
        const object = await again.s3.send(
          new GetObjectCommand({ Bucket: second.env.BUCKET_NAME, Key: 'restart.txt' }),
        );
        expect(await object.Body?.transformToString()).toBe('kept');
        const messages = await again.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: second.env.QUEUE_URL_BEACONS, WaitTimeSeconds: 1 }),
        );
        expect(messages.Messages?.map((m) => m.Body)).toEqual(['unconsumed']);
      } finally {
        again.destroy();
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

function emulatorClients(endpoints: Emulators['endpoints']) {
  const base = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb });
  const s3 = new S3Client({
    ...base,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sqsClient = new SQSClient({ ...base, endpoint: endpoints.sqs });
  return {
    dynamo,
    s3,
    sqs: sqsClient,
    destroy: () => {
      for (const client of [dynamo, s3, sqsClient]) client.destroy();
    },
  };
}
