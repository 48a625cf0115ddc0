import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient as SdkSQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient as SdkDocumentClient,
  GetCommand as SdkGetCommand,
  PutCommand as SdkPutCommand,
} from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../shared/config/env';
import {
  BatchGetCommand,
  BatchWriteCommand,
  ConditionalCheckFailedException,
  DeleteCommand,
  DynamoDBDocumentClient,
  DynamoDBServiceException,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from '../../shared/store/aws/dynamodb';
import { GetObjectCommand, S3Reader, S3ServiceException } from '../../shared/store/aws/s3';
import { SendMessageCommand, SQSClient, SQSServiceException } from '../../shared/store/aws/sqs';
import { s3 as sdkS3 } from '../../shared/store/s3Sdk';

/**
 * Our wire client against the emulators the service runs on (DynamoDB Local, fauxqs, s3rver), each
 * command checked against the AWS SDK reading or writing the same items: same values both ways.
 */
const TableName = process.env[ENV.tableName]!;
const sdkDocumentClient = SdkDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
});
const sdkSqs = new SdkSQSClient({});
const client = new DynamoDBDocumentClient();
const run = `wire${Date.now().toString(36)}`;
const pk = (name: string) => `WIRETEST#${run}#${name}`;

const document = {
  s: 'héllo ✓',
  n: 42,
  f: -0.125,
  big: Number.MAX_SAFE_INTEGER,
  t: true,
  nothing: null,
  list: [1, 'two', { three: 3 }, [false]],
  map: { nested: { deeper: 'yes' }, empty: {} },
  tags: new Set(['a', 'b']),
  nums: new Set([1, 2.5]),
  bytes: new Uint8Array([0, 1, 254, 255]),
};

it('puts and gets items that the SDK reads and writes identically', async () => {
  await client.send(new PutCommand({ TableName, Item: { pk: pk('doc'), sk: 'A', ...document, dropped: undefined } }));
  const viaSdk = await sdkDocumentClient.send(new SdkGetCommand({ TableName, Key: { pk: pk('doc'), sk: 'A' } }));
  expect(viaSdk.Item).toEqual({ pk: pk('doc'), sk: 'A', ...document });

  await sdkDocumentClient.send(new SdkPutCommand({ TableName, Item: { pk: pk('doc'), sk: 'B', ...document } }));
  const ours = await client.send(new GetCommand({ TableName, Key: { pk: pk('doc'), sk: 'B' }, ConsistentRead: true }));
  expect(ours.Item).toEqual(viaSdk.Item && { ...viaSdk.Item, sk: 'B' });
  expect((await client.send(new GetCommand({ TableName, Key: { pk: pk('none'), sk: 'A' } }))).Item).toBeUndefined();
});

it('updates with expressions, returns the new values and the consumed capacity', async () => {
  const key = { pk: pk('counter'), sk: 'C' };
  const add = () =>
    client.send(
      new UpdateCommand({
        TableName,
        Key: key,
        UpdateExpression: 'ADD #n :one, #seen :who SET #exp = if_not_exists(#exp, :exp)',
        ExpressionAttributeNames: { '#n': 'n', '#seen': 'seen', '#exp': 'expiresAt' },
        ExpressionAttributeValues: { ':one': 1, ':who': new Set(['v1']), ':exp': 1_900_000_000 },
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
  await add();
  const second = await add();
  expect(second.Attributes).toEqual({ ...key, n: 2, seen: new Set(['v1']), expiresAt: 1_900_000_000 });
  expect(second.ConsumedCapacity).toMatchObject({ TableName, CapacityUnits: expect.any(Number) });
  expect(second.ConsumedCapacity!.CapacityUnits!).toBeGreaterThan(0);
});

it('fails a condition with ConditionalCheckFailedException carrying the old item, never retried', async () => {
  const key = { pk: pk('cond'), sk: 'C' };
  await client.send(new PutCommand({ TableName, Item: { ...key, n: 5 } }));
  const error = await client
    .send(
      new UpdateCommand({
        TableName,
        Key: key,
        UpdateExpression: 'SET n = :n',
        ConditionExpression: 'n < :cap',
        ExpressionAttributeValues: { ':n': 6, ':cap': 5 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  expect(error).toMatchObject({ $metadata: { httpStatusCode: 400, attempts: 1 } });
  // DynamoDB Local may or may not return the old item; when it does it is raw, as from the SDK.
  const item = (error as ConditionalCheckFailedException).Item;
  if (item) expect(item.n).toEqual({ N: '5' });

  const deleted = await client.send(new DeleteCommand({ TableName, Key: key, ReturnValues: 'ALL_OLD' }));
  expect(deleted.Attributes).toEqual({ ...key, n: 5 });
});

it('queries pages in order with ExclusiveStartKey and a filter', async () => {
  const partition = pk('query');
  for (let i = 0; i < 7; i++)
    await client.send(new PutCommand({ TableName, Item: { pk: partition, sk: `S#${i}`, i } }));
  const seen: number[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'i <> :skip',
        ExpressionAttributeValues: { ':pk': partition, ':prefix': 'S#', ':skip': 3 },
        ExclusiveStartKey: start,
        Limit: 3,
        ScanIndexForward: false,
      }),
    );
    seen.push(...(page.Items ?? []).map((item) => item.i as number));
    start = page.LastEvaluatedKey;
  } while (start);
  expect(seen).toEqual([6, 5, 4, 2, 1, 0]);
});

it('batch-writes and batch-gets across keys', async () => {
  const keys = Array.from({ length: 30 }, (_, i) => ({ pk: pk('batch'), sk: `B#${i}` }));
  for (let from = 0; from < keys.length; from += 25) {
    let pending: Record<string, unknown>[] | undefined = keys
      .slice(from, from + 25)
      .map((key) => ({ PutRequest: { Item: { ...key, v: key.sk } } }));
    while (pending?.length) {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
      pending = out.UnprocessedItems?.[TableName] as Record<string, unknown>[] | undefined;
    }
  }
  const out = await client.send(
    new BatchGetCommand({ RequestItems: { [TableName]: { Keys: keys.slice(0, 10), ProjectionExpression: 'sk, v' } } }),
  );
  expect(out.Responses?.[TableName]?.map((item) => item.v).sort()).toEqual(
    keys
      .slice(0, 10)
      .map((k) => k.sk)
      .sort(),
  );
  expect(out.UnprocessedKeys?.[TableName]).toBeUndefined();
  await client.send(
    new BatchWriteCommand({
      RequestItems: { [TableName]: keys.slice(0, 5).map((key) => ({ DeleteRequest: { Key: key } })) },
    }),
  );
  const after = await client.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: keys.slice(0, 6) } } }));
  expect(after.Responses?.[TableName]?.map((item) => item.sk)).toEqual(['B#5']);
});

it('writes transactions, and a refused one names the failing item in CancellationReasons', async () => {
  const a = { pk: pk('tx'), sk: 'A' };
  const b = { pk: pk('tx'), sk: 'B' };
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName, Item: { ...a, v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName, Key: b, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } } },
      ],
    }),
  );
  const error = await client
    .send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName, Key: b, UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': 1 } } },
          { Put: { TableName, Item: { ...a, v: 2 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransactionCanceledException);
  expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
    'None',
    'ConditionalCheckFailed',
  ]);
  const b1 = await client.send(new GetCommand({ TableName, Key: b }));
  expect(b1.Item?.v).toBe(1);
});

it('reports a validation error by DynamoDB name without the request values', async () => {
  const error = await client
    .send(
      new UpdateCommand({
        TableName,
        Key: { pk: pk('bad'), sk: 'x' },
        UpdateExpression: 'SET = :v',
        ExpressionAttributeValues: { ':v': 'vis_secret_value' },
      }),
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DynamoDBServiceException);
  expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400, attempts: 1 } });
  expect(JSON.stringify(error)).not.toContain('vis_secret_value');
});

it('sends SQS messages that the SDK receives from fauxqs, and types a missing queue', async () => {
  const QueueUrl = process.env[ENV.queueUrl.exports]!;
  const sqs = new SQSClient();
  const body = JSON.stringify({ wire: run, é: '✓' });
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
  expect(sent.MessageId).toEqual(expect.any(String));
  let received: string | undefined;
  for (let i = 0; i < 10 && received === undefined; i++) {
    const out = await sdkSqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    received = out.Messages?.find((m: { Body?: string }) => m.Body === body)?.Body;
  }
  expect(received).toBe(body);
  const error = await sqs
    .send(new SendMessageCommand({ QueueUrl: `${QueueUrl}-missing`, MessageBody: 'x' }))
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SQSServiceException);
  expect((error as SQSServiceException).$metadata.httpStatusCode).toBeGreaterThanOrEqual(400);
});

it('reads S3 objects with a signed GET from s3rver, and a missing key is a 404', async () => {
  const Bucket = process.env[ENV.bucketName]!;
  const Key = `wire/${run}/snap shot+1.json`;
  await sdkS3.send(new PutObjectCommand({ Bucket, Key, Body: '{"intel":true}' }));
  const s3 = new S3Reader({ forcePathStyle: true });
  const out = await s3.send(new GetObjectCommand({ Bucket, Key }));
  expect(Buffer.from(await out.Body.transformToByteArray()).toString('utf8')).toBe('{"intel":true}');
  const error = await s3.send(new GetObjectCommand({ Bucket, Key: `${Key}.missing` })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(S3ServiceException);
  expect((error as S3ServiceException).$metadata.httpStatusCode).toBe(404);
});
