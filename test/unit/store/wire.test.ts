import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBDocumentClient,
  DynamoDBServiceException,
  GetCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  UpdateCommand,
} from '../../../shared/store/aws/dynamodb';
import { AwsTransportError } from '../../../shared/store/aws/errors';
import { GetObjectCommand, S3Reader, S3ServiceException } from '../../../shared/store/aws/s3';
import { SendMessageCommand, SQSClient, SQSServiceException } from '../../../shared/store/aws/sqs';

/**
 * The wire against a scripted fake AWS endpoint: what is retried (throttling, 5xx, timeouts, dropped
 * sockets) and what is not (failed conditions, validation), how errors are typed, and that neither the
 * request body nor the secret key ever reaches an error.
 */
type Reply = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const SECRET = 'wire-test-secret-key-never-logged';
const VISITOR = 'vis_private_visitor_9f3a';

let server: Server;
let endpoint: string;
let script: Reply[] = [];
let seen: Array<{ target: string | undefined; body: string; headers: IncomingMessage['headers']; url: string }> = [];

const json =
  (status: number, payload: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
    res.end(JSON.stringify(payload));
  };
const dynamoError = (status: number, code: string, extra: object = {}) =>
  json(status, { __type: `com.amazonaws.dynamodb.v20120810#${code}`, message: `${code} happened`, ...extra });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        target: req.headers['x-amz-target'] as string | undefined,
        body,
        headers: req.headers,
        url: req.url!,
      });
      const reply = script.shift() ?? json(500, { __type: 'NoScript' });
      reply(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  script = [];
  seen = [];
});

const options = () => ({
  endpoint,
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIAWIRETEST', secretAccessKey: SECRET, sessionToken: 'session-token-value' },
  timeoutMs: 300,
});
const update = () =>
  new UpdateCommand({
    TableName: 'clicks',
    Key: { pk: `VIS#${VISITOR}`, sk: 'v' },
    UpdateExpression: 'ADD n :one',
    ConditionExpression: 'attribute_not_exists(pk) OR n < :cap',
    ExpressionAttributeValues: { ':one': 1, ':cap': 10 },
    ReturnValues: 'ALL_NEW',
  });

it('sends a signed awsJson 1.0 request with marshalled values and returns plain values', async () => {
  script = [json(200, { Attributes: { pk: { S: `VIS#${VISITOR}` }, n: { N: '3' }, seen: { SS: ['a'] } } })];
  const out = await new DynamoDBDocumentClient(options()).send(update());
  expect(out.Attributes).toEqual({ pk: `VIS#${VISITOR}`, n: 3, seen: new Set(['a']) });
  const [request] = seen;
  expect(request!.target).toBe('DynamoDB_20120810.UpdateItem');
  expect(request!.headers['content-type']).toBe('application/x-amz-json-1.0');
  expect(request!.headers['x-amz-security-token']).toBe('session-token-value');
  expect(request!.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIAWIRETEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
  );
  expect(JSON.parse(request!.body)).toEqual({
    TableName: 'clicks',
    Key: { pk: { S: `VIS#${VISITOR}` }, sk: { S: 'v' } },
    UpdateExpression: 'ADD n :one',
    ConditionExpression: 'attribute_not_exists(pk) OR n < :cap',
    ExpressionAttributeValues: { ':one': { N: '1' }, ':cap': { N: '10' } },
    ReturnValues: 'ALL_NEW',
  });
});

it('retries a throttled call and then succeeds (the SDK standard mode)', async () => {
  script = [
    dynamoError(400, 'ThrottlingException'),
    dynamoError(400, 'ProvisionedThroughputExceededException'),
    json(200, { Item: { pk: { S: 'x' } } }),
  ];
  const out = await new DynamoDBDocumentClient(options()).send(new GetCommand({ TableName: 't', Key: { pk: 'x' } }));
  expect(out.Item).toEqual({ pk: 'x' });
  expect(seen).toHaveLength(3);
});

it('gives up after three attempts with the last error, typed, with its status and attempt count', async () => {
  script = [
    dynamoError(500, 'InternalServerError'),
    dynamoError(503, 'ServiceUnavailable'),
    dynamoError(500, 'InternalServerError'),
    json(200, {}),
  ];
  const error = await new DynamoDBDocumentClient(options()).send(update()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DynamoDBServiceException);
  expect(error).toMatchObject({
    name: 'InternalServerError',
    $fault: 'server',
    $metadata: { httpStatusCode: 500, attempts: 3 },
  });
  expect(seen).toHaveLength(3);
});

it('never retries a failed condition, and hands back the item as it stood (raw, as the SDK does)', async () => {
  script = [dynamoError(400, 'ConditionalCheckFailedException', { Item: { n: { N: '10' } } }), json(200, {})];
  const error = await new DynamoDBDocumentClient(options()).send(update()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  expect(error).toMatchObject({
    name: 'ConditionalCheckFailedException',
    Item: { n: { N: '10' } },
    $metadata: { httpStatusCode: 400, attempts: 1 },
  });
  expect(seen).toHaveLength(1);
});

it('never retries a validation error', async () => {
  script = [
    json(400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'bad expression' }),
    json(200, {}),
  ];
  const error = await new DynamoDBDocumentClient(options()).send(update()).catch((e: unknown) => e);
  expect(error).toMatchObject({ name: 'ValidationException', message: 'bad expression' });
  expect(seen).toHaveLength(1);
});

it('types a cancelled transaction with its reasons in order', async () => {
  script = [
    dynamoError(400, 'TransactionCanceledException', {
      CancellationReasons: [
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      ],
    }),
  ];
  const error = await new DynamoDBDocumentClient(options())
    .send(
      new TransactWriteCommand({
        TransactItems: [{ Put: { TableName: 't', Item: { pk: 'a' } } }, { Put: { TableName: 't', Item: { pk: 'b' } } }],
      }),
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransactionCanceledException);
  expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
    'None',
    'ConditionalCheckFailed',
  ]);
  expect(JSON.parse(seen[0]!.body).TransactItems[1]).toEqual({ Put: { TableName: 't', Item: { pk: { S: 'b' } } } });
});

it('retries an attempt that times out and one whose socket is dropped', async () => {
  script = [
    () => {
      // Never answers: the attempt times out after 300 ms.
    },
    (req) => req.socket.destroy(),
    json(200, { Attributes: { n: { N: '1' } } }),
  ];
  const out = await new DynamoDBDocumentClient(options()).send(update());
  expect(out.Attributes).toEqual({ n: 1 });
  expect(seen).toHaveLength(3);
});

it('reports a timeout as TimeoutError once the attempts are spent', async () => {
  const silent: Reply = () => {};
  script = [silent, silent, silent];
  const error = await new DynamoDBDocumentClient({ ...options(), timeoutMs: 100 })
    .send(update())
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AwsTransportError);
  expect(error).toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 3 } });
});

it('puts neither the request body nor the secret key in any error', async () => {
  const errors: unknown[] = [];
  const client = new DynamoDBDocumentClient({ ...options(), maxAttempts: 1 });
  for (const reply of [
    dynamoError(400, 'ConditionalCheckFailedException'),
    dynamoError(500, 'InternalServerError'),
    json(400, {}),
    (req: IncomingMessage) => req.socket.destroy(),
  ]) {
    script = [reply as Reply];
    errors.push(await client.send(update()).catch((e: unknown) => e));
  }
  errors.push(
    await client
      .send(new UpdateCommand({ TableName: 't', Key: { pk: VISITOR, at: new Date() } }))
      .catch((e: unknown) => e),
  );
  for (const error of errors) {
    expect(error).toBeInstanceOf(Error);
    const everything = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)} ${JSON.stringify(Object.entries(error as object))}`;
    expect(everything).not.toContain(VISITOR);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('session-token-value');
  }
});

it('runs interceptors around each command: they may change the input, see the output, or fail the call', async () => {
  const client = new DynamoDBDocumentClient(options());
  const log: string[] = [];
  const remove = client.intercept(async (command, next) => {
    (command.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
    const out = (await next()) as { ConsumedCapacity?: { CapacityUnits?: number } };
    log.push(`${command.commandName} ${out.ConsumedCapacity?.CapacityUnits}`);
    return out;
  });
  script = [json(200, { ConsumedCapacity: { TableName: 't', CapacityUnits: 1 } })];
  await client.send(update());
  expect(JSON.parse(seen[0]!.body).ReturnConsumedCapacity).toBe('TOTAL');
  expect(log).toEqual(['UpdateCommand 1']);
  remove();
  const refuse = client.intercept(async () => {
    throw Object.assign(new Error('injected'), { name: 'ThrottlingException' });
  });
  await expect(client.send(update())).rejects.toThrow('injected');
  expect(seen).toHaveLength(1);
  refuse();
});

it('sends SQS messages over the JSON protocol and types its errors', async () => {
  script = [
    json(200, { MessageId: 'm-1', MD5OfMessageBody: 'x' }),
    json(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'no queue' }),
  ];
  const sqs = new SQSClient(options());
  const out = await sqs.send(
    new SendMessageCommand({ QueueUrl: `${endpoint}/000/clicks`, MessageBody: '{"a":1}', DelaySeconds: 5 }),
  );
  expect(out.MessageId).toBe('m-1');
  expect(seen[0]!.target).toBe('AmazonSQS.SendMessage');
  expect(JSON.parse(seen[0]!.body)).toEqual({
    QueueUrl: `${endpoint}/000/clicks`,
    MessageBody: '{"a":1}',
    DelaySeconds: 5,
  });
  const error = await sqs.send(new SendMessageCommand({ QueueUrl: 'q', MessageBody: 'b' })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SQSServiceException);
  expect(error).toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
});

it('reads an S3 object with a signed GET (path style) and maps a missing key to a 404 S3 error', async () => {
  script = [
    (_req, res) => res.end(Buffer.from([1, 2, 3])),
    (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
    },
  ];
  const s3 = new S3Reader({ ...options(), forcePathStyle: true });
  const out = await s3.send(new GetObjectCommand({ Bucket: 'intel', Key: 'intel/snap shot.json' }));
  expect([...(await out.Body.transformToByteArray())]).toEqual([1, 2, 3]);
  expect(seen[0]!.url).toBe('/intel/intel/snap%20shot.json');
  expect(seen[0]!.headers['x-amz-content-sha256']).toBe(
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  const error = await s3.send(new GetObjectCommand({ Bucket: 'intel', Key: 'missing' })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(S3ServiceException);
  expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
});

it('reads a Secrets Manager string secret once per max age, and does not cache a failure', async () => {
  const { getSecret, SecretsManagerClient, SecretsManagerServiceException } = await import(
    '../../../shared/store/aws/secrets'
  );
  const secrets = new SecretsManagerClient(options());
  let now = 1_000_000;
  const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-${Date.now()}`;
  script = [
    json(400, { __type: 'ResourceNotFoundException', message: 'not yet' }),
    json(200, { ARN: arn, SecretString: 'first-master-key' }),
    json(200, { ARN: arn, SecretString: 'rotated-master-key' }),
  ];
  const read = () => getSecret(arn, { maxAge: 300, client: secrets, now: () => now });
  await expect(read()).rejects.toBeInstanceOf(SecretsManagerServiceException);
  expect(await Promise.all([read(), read()])).toEqual(['first-master-key', 'first-master-key']);
  now += 299_000;
  expect(await read()).toBe('first-master-key');
  now += 2_000;
  expect(await read()).toBe('rotated-master-key');
  expect(seen.map((request) => request.target)).toEqual(Array(3).fill('secretsmanager.GetSecretValue'));
  expect(seen[0]!.headers['content-type']).toBe('application/x-amz-json-1.1');
  expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: arn });
  expect(seen[0]!.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
});
