import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { carriesIntelSnapshot } from '../infra/constructs/bundling';
import { authorize, usesAuthorizer } from '../infra/local/gateway';
import { invoke, loadHandler } from '../infra/local/lambda';
import { deliver } from '../infra/local/queues';
import { newAdminKey, newTokenSigningKey, secretsEnv } from '../infra/local/secrets';
import { ENV } from '../shared/config/env';
import { ApiError } from '../shared/http/errors';
import { type QueueConsumerId, queueConsumers, type RouteDef, type RouteId, routes } from '../shared/routes';
import type { PropertyCredentials } from '../shared/schemas/properties';
import { DynamoDBDocumentClient } from '../shared/store/aws/dynamodb';
import { documentClient } from '../shared/store/clients';
import { bundleFunction } from './bundle';
import { descendantNamed, JvmMeter } from './proc';
import { rounded } from './round';
import { concurrently, referenceUpdate, serverClickBody, UA, visitorIp } from './traffic';

/**
 * The click path measured from outside, as issue 10 measures it: the deployed handlers
 * (functions/api/click.ts, beacon.ts, conversion.ts, then the queue consumers) invoked with API Gateway
 * proxy events — the local gateway's authorizer run first where the stack has one — against DynamoDB Local
 * and fauxqs, counting every DynamoDB call the process makes, by command and item family: the rate meter,
 * key and property lookups, idempotency and everything the domain writes. The caller starts the emulators
 * and puts their environment (endpoints, table, queues) in process.env before loading this module.
 */

/** List prices, us-east-1 (the brief's figures). */
const PRICES = {
  apiGatewayPerMillion: 3.5,
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  sqsPerMillionRequests: 0.4,
};
/** The click function's memory in the stack (infra/constructs/api.ts: intel routes get 1024 MB). */
const LAMBDA_MEMORY_MB = 1024;
/** Assumed in-region DynamoDB round trip on AWS (single-digit ms; DynamoDB Local is slower). */
const AWS_ROUND_TRIP_MS = 6;
/** API Gateway's integration timeout. */
const HANDLER_TIMEOUT_MS = 29_000;

export interface ClickPathFigures {
  readonly clicks: number;
  readonly dynamoCallsPerClick: number;
  readonly readUnitsPerClick: number;
  readonly writeUnitsPerClick: number;
  readonly rescoreWriteUnitsPerClick: number;
  readonly counterWriteUnitsPerClick: number;
  readonly allInWriteUnitsPerClick: number;
  readonly allInReadUnitsPerClick: number;
  /** All-in write units as AWS bills them: a transactional write is 2 units per item (per KB). */
  readonly allInWriteUnitsOnAws: number;
  readonly meterWriteUnitsPerRequest: number;
  readonly countedClicks: number;
  readonly sequentialRoundTrips: number;
  /** The click function's bundle as deployed, in a warm container (after its first clicks). */
  readonly cpuMsPerClick: number;
  /** The first clicks of a new container: module loads, JIT compilation, new connections. */
  readonly newContainerCpuMsPerClick: number;
  readonly localWallMsPerClick: number;
  readonly costPerMillionClicks: Record<string, number>;
  /** Capacity units per click by command and item family. */
  readonly unitsByFamily: Record<string, number>;
  readonly rescoreUnitsByFamily: Record<string, number>;
  readonly counterUnitsByFamily: Record<string, number>;
  readonly callsByFamily: Record<string, number>;
  readonly assumptions: readonly string[];
}

interface Meter {
  /** Capacity units by command and key family (`UpdateCommand VEL`, `TransactWriteCommand CNT+STAT`, …). */
  byFamily: Map<string, number>;
  callsByFamily: Map<string, number>;
  calls: number;
  read: number;
  write: number;
  /** Items written in transactions, and the units DynamoDB Local reported for those transactions. */
  transactItems: number;
  transactUnits: number;
  inFlight: number;
  rounds: number;
}

const newMeter = (): Meter => ({
  byFamily: new Map(),
  callsByFamily: new Map(),
  calls: 0,
  read: 0,
  write: 0,
  transactItems: 0,
  transactUnits: 0,
  inFlight: 0,
  rounds: 0,
});

/**
 * Meters the process's own DynamoDB client (the one every store and handler uses): asks for
 * ConsumedCapacity on every call and adds it up by command and item family, counting round trips.
 * Returns the function that removes the hook.
 */
function meteredClient(meter: Meter): () => void {
  return documentClient.intercept(async (command, next) => {
    const input = command.input as Record<string, unknown>;
    input.ReturnConsumedCapacity = 'TOTAL';
    const family = `${command.commandName} ${keyFamily(input)}`;
    if (Array.isArray(input.TransactItems)) meter.transactItems += input.TransactItems.length;
    meter.calls += 1;
    meter.callsByFamily.set(family, (meter.callsByFamily.get(family) ?? 0) + 1);
    if (meter.inFlight === 0) meter.rounds += 1;
    meter.inFlight += 1;
    try {
      const output = await next();
      const consumed = (output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const { ReadCapacityUnits, WriteCapacityUnits, CapacityUnits = 0 } = c as Record<string, number | undefined>;
        meter.byFamily.set(family, (meter.byFamily.get(family) ?? 0) + CapacityUnits);
        if (Array.isArray(input.TransactItems)) meter.transactUnits += CapacityUnits;
        if (ReadCapacityUnits !== undefined || WriteCapacityUnits !== undefined) {
          meter.read += ReadCapacityUnits ?? 0;
          meter.write += WriteCapacityUnits ?? 0;
        } else if (/Get|Query|Scan/.test(command.commandName)) {
          // Only the total came back: reads and writes are told apart by the command.
          meter.read += CapacityUnits;
        } else meter.write += CapacityUnits;
      }
      return output;
    } finally {
      meter.inFlight -= 1;
    }
  });
}

/** `VEL`, `CNT×40+STAT` (a transaction), `CLK` (a batch read): the key families a call touches. */
function keyFamily(input: Record<string, unknown>): string {
  // Velocity items by counted key (`VEL ip`, `VEL net`): each is one UpdateItem of the click round.
  const pkOf = (o: unknown) => {
    const pk = (o as { pk?: unknown } | undefined)?.pk;
    const [family, , counted] = String((pk as { S?: string } | undefined)?.S ?? pk ?? '').split('#');
    return family === 'VEL' ? `VEL ${counted}` : family!;
  };
  const list = (families: string[]) => {
    const counts = new Map<string, number>();
    for (const family of families) counts.set(family, (counts.get(family) ?? 0) + 1);
    return [...counts].map(([family, n]) => (n > 1 ? `${family}×${n}` : family)).join('+');
  };
  if (Array.isArray(input.TransactItems)) {
    return list(
      input.TransactItems.map((t: Record<string, { Key?: unknown; Item?: unknown }>) => {
        const op = Object.values(t)[0];
        return pkOf(op?.Key ?? op?.Item);
      }),
    );
  }
  if (input.RequestItems && typeof input.RequestItems === 'object') {
    const requests = Object.values(input.RequestItems as Record<string, { Keys?: unknown[] } | unknown[]>);
    const keys = requests.flatMap((r) =>
      Array.isArray(r)
        ? r.map((w) =>
            pkOf(
              (w as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }).PutRequest?.Item ??
                (w as { DeleteRequest?: { Key?: unknown } }).DeleteRequest?.Key,
            ),
          )
        : (r.Keys ?? []).map(pkOf),
    );
    return [...new Set(keys)].join('+');
  }
  const queried = (input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':pk'];
  return (
    pkOf(input.Key ?? input.Item ?? { pk: queried }) || (input.IndexName ? `index ${String(input.IndexName)}` : '?')
  );
}

interface Pass {
  calls: number;
  read: number;
  write: number;
  transactItems: number;
  transactUnits: number;
  rounds: number;
  byFamily: Map<string, number>;
  callsByFamily: Map<string, number>;
}

function take(meter: Meter): Pass {
  const pass = {
    calls: meter.calls,
    read: meter.read,
    write: meter.write,
    transactItems: meter.transactItems,
    transactUnits: meter.transactUnits,
    rounds: meter.rounds,
    byFamily: new Map(meter.byFamily),
    callsByFamily: new Map(meter.callsByFamily),
  };
  Object.assign(meter, { calls: 0, read: 0, write: 0, transactItems: 0, transactUnits: 0, rounds: 0 });
  meter.byFamily.clear();
  meter.callsByFamily.clear();
  return pass;
}

type Credentials = z.output<typeof PropertyCredentials>;

interface Call {
  readonly body?: unknown;
  /** Sent as `x-api-key` (the admin key as `x-admin-key`). */
  readonly apiKey?: string;
  readonly adminKey?: string;
  readonly sourceIp: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
}

/** A REST (v1) proxy event as infra/local/gateway.ts builds it. */
function apiEvent(route: RouteDef, call: Call): APIGatewayProxyEvent {
  const headers: Record<string, string> = { 'User-Agent': UA, Host: 'bench.local' };
  if (call.apiKey) headers['x-api-key'] = call.apiKey;
  if (call.adminKey) headers['x-admin-key'] = call.adminKey;
  if (call.body !== undefined) headers['Content-Type'] = 'application/json';
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => call.pathParameters?.[name] ?? name);
  const requestId = randomBytes(16).toString('hex');
  const now = new Date();
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: call.query ?? null,
    multiValueQueryStringParameters: call.query
      ? Object.fromEntries(Object.entries(call.query).map(([name, value]) => [name, [value]]))
      : null,
    pathParameters: call.pathParameters ?? null,
    stageVariables: null,
    body: call.body === undefined ? null : JSON.stringify(call.body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      path: `/v1${path}`,
      stage: 'v1',
      requestId,
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: route.path,
      resourcePath: route.path,
      domainName: 'bench.local',
      identity: { sourceIp: call.sourceIp, userAgent: UA } as APIGatewayProxyEvent['requestContext']['identity'],
    },
  };
}

/** One API call the way API Gateway makes it: the authorizer where the stack has one, then the function. */
async function callApi(id: RouteId, call: Call): Promise<{ status: number; body: unknown }> {
  const route: RouteDef = routes[id];
  const event = apiEvent(route, call);
  if (usesAuthorizer(route)) {
    const authorization = await authorize(event);
    if (authorization instanceof ApiError) return { status: authorization.statusCode, body: authorization.toBody() };
    event.requestContext.authorizer = authorization.context;
  }
  const result = await invoke<APIGatewayProxyResult>(loadHandler(route.handler), event, id, HANDLER_TIMEOUT_MS);
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

async function expectOk<T>(answer: Promise<{ status: number; body: unknown }>, what: string): Promise<T> {
  const { status, body } = await answer;
  if (status >= 300) throw new Error(`${what} answered ${status}: ${JSON.stringify(body)}`);
  return body as T;
}

/**
 * What the stack's SQS event source mappings do: receive up to the consumer's batch size (in receives of
 * 10, as a batching window gathers them), invoke the consumer, delete what it did not report failed —
 * until the queue, its in-flight and its delayed messages are empty.
 */
async function drainQueue(sqs: SQSClient, consumer: QueueConsumerId): Promise<void> {
  const def = queueConsumers[consumer];
  const queueUrl = process.env[ENV.queueUrl[def.queue]]!;
  const attributes = async (...names: QueueAttributeName[]) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }))).Attributes ?? {};
  const { QueueArn } = await attributes('QueueArn');
  const options = { name: consumer, queueUrl, handler: loadHandler(def.handler), batchSize: def.batchSize };
  for (;;) {
    const batch: Message[] = [];
    while (batch.length < def.batchSize) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, def.batchSize - batch.length),
          WaitTimeSeconds: batch.length === 0 ? 1 : 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      batch.push(...Messages);
    }
    if (batch.length > 0) {
      await deliver(sqs, options, batch, QueueArn!);
      continue;
    }
    const state = await attributes(
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    );
    const left =
      Number(state.ApproximateNumberOfMessages ?? 0) +
      Number(state.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(state.ApproximateNumberOfMessagesDelayed ?? 0);
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface Service {
  readonly sqs: SQSClient;
  createProperty(plan: string): Promise<Credentials>;
  /** Clicks counted in today's stats (GET /v1/property/{id}/stats, the secret key). */
  countedClicks(property: Credentials): Promise<number>;
  stop(): void;
}

/** The admin key of this process's service; its hash and the token signing key go into the functions' environment once. */
let adminKey: string | undefined;

function benchService(): Service {
  if (adminKey === undefined) {
    adminKey = newAdminKey();
    Object.assign(process.env, secretsEnv(adminKey, process.env[ENV.tokenSigningKey] ?? newTokenSigningKey()));
  }
  const sqs = new SQSClient({});
  return {
    sqs,
    createProperty: (plan) =>
      expectOk<Credentials>(
        callApi('createProperty', {
          adminKey,
          sourceIp: '10.0.0.1',
          body: { name: `bench ${randomBytes(3).toString('hex')}`, plan },
        }),
        'POST /v1/properties',
      ),
    countedClicks: async (property) => {
      const stats = await expectOk<{ totalDecisions: number }>(
        callApi('propertyStats', {
          apiKey: property.secretKey,
          sourceIp: '10.0.0.1',
          pathParameters: { id: property.id },
          query: { range: '7days' },
        }),
        'GET /v1/property/{id}/stats',
      );
      return stats.totalDecisions;
    },
    stop: () => sqs.destroy(),
  };
}

/** An ordinary server-side click (bench/traffic.ts), sent with the secret key. */
const serverClickCall = (property: Credentials, i: number): Call => ({
  apiKey: property.secretKey,
  sourceIp: '10.0.0.1',
  body: serverClickBody(i),
});
const serverClick = (property: Credentials, i: number) => callApi('click', serverClickCall(property, i));

/**
 * The click function's own CPU as deployed: its esbuild bundle (minified, as the stack ships it) in a node process
 * of its own — a new container, sharing nothing with the bench — on a property of its own. The first clicks carry
 * the module load, JIT compilation and new connections; Lambda keeps a container for thousands of clicks, so the
 * figure is a warm container's (after CONTAINER_WARM_UP more), with the new container's beside it. The events and
 * contexts are built before the clock starts: the figure is the handler's, not the bench's.
 */
async function deployedClickCpu(service: Service, clicks: number): Promise<{ warmMs: number; newContainerMs: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicksieve-click-'));
  try {
    const bundle = path.join(dir, 'click.js');
    await bundleFunction(routes.click.handler, bundle, { intelSnapshot: carriesIntelSnapshot('click', routes.click) });
    const property = await service.createProperty('network');
    const events = path.join(dir, 'events.json');
    const total = 2 * clicks + CONTAINER_WARM_UP;
    writeFileSync(
      events,
      JSON.stringify(
        Array.from({ length: total }, (_, i) => apiEvent(routes.click, serverClickCall(property, 300_000 + i))),
      ),
    );
    const out = execFileSync(
      process.execPath,
      ['-e', CONTAINER_SCRIPT, bundle, events, String(clicks), String(CONTAINER_WARM_UP)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    return JSON.parse(out) as { warmMs: number; newContainerMs: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The container: loads the bundle, runs `clicks` events (new), `warmUp` more, then `clicks` (warm); prints CPU ms per click. */
const CONTAINER_SCRIPT = `
const [bundle, eventsFile, clicks, warmUp] = process.argv.slice(1);
const events = JSON.parse(require('node:fs').readFileSync(eventsFile, 'utf8'));
const context = () => ({ callbackWaitsForEmptyEventLoop: false, functionName: 'clicksieve-click', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:clicksieve-click', memoryLimitInMB: '1024',
  awsRequestId: require('node:crypto').randomUUID(), logGroupName: '/aws/lambda/clicksieve-click', logStreamName: 'bench',
  getRemainingTimeInMillis: () => 29000, done() {}, fail() {}, succeed() {} });
const contexts = events.map(context);
const ms = (u) => (u.user + u.system) / 1000;
(async () => {
  const load = process.cpuUsage();
  const { handler } = require(bundle);
  const loadMs = ms(process.cpuUsage(load));
  const run = async (from, n) => {
    const before = process.cpuUsage();
    for (let i = from; i < from + n; i++) {
      const result = await handler(events[i], contexts[i]);
      if (result.statusCode !== 200) throw new Error('click answered ' + result.statusCode + ': ' + result.body);
    }
    return ms(process.cpuUsage(before)) / n;
  };
  const n = Number(clicks);
  const newContainerMs = (await run(0, n)) + loadMs / n;
  await run(n, Number(warmUp));
  const warmMs = await run(n + Number(warmUp), n);
  process.stdout.write(JSON.stringify({ newContainerMs, warmMs }));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

/**
 * 200 secret-key clicks through the click function (calls, capacity units, sequential round trips and CPU
 * of the synchronous path); then one beacon per click from the visitor's browser (public key) and a
 * conversion webhook for every 20th click, with the beacon and conversion scorers draining their queues; then
 * the click counter over everything sent — the all-in capacity units per click. The rate meter, the key
 * lookups and the property reads are in every figure, as they are on AWS.
 */
export async function benchClickPath(target: { clicks?: number } = {}): Promise<ClickPathFigures> {
  const clicks = target.clicks ?? 200;
  const service = benchService();
  const meter = newMeter();
  const unhook = meteredClient(meter);
  try {
    const cpuOfDeployed = await deployedClickCpu(service, clicks);
    const property = await service.createProperty('starter');
    // The measured property's own caches (its key, its plan, the rate meter's batch); counted and discarded.
    for (let i = 0; i < WARM_UP; i++) await expectOk(serverClick(property, 100_000 + i), 'warm-up click');
    await drainQueue(service.sqs, 'clickCounter');
    take(meter);

    const answers: { click_id: string }[] = [];
    const started = performance.now();
    for (let i = 0; i < clicks; i++) answers.push(await expectOk(serverClick(property, i), 'POST /v1/click'));
    const wallMs = performance.now() - started;
    const sync = take(meter);

    // One beacon per click from the visitor's browser, a conversion webhook for every 20th; the scorers drain.
    const followUpCpuBefore = process.cpuUsage();
    for (const [i, answer] of answers.entries()) {
      await expectOk(
        callApi('beacon', {
          sourceIp: visitorIp(i),
          body: {
            tracking_key: property.publicKey,
            click_id: answer.click_id,
            time_on_page: 20 + (i % 30),
            scroll_depth: 60,
            mouse_entropy: 0.7,
          },
        }),
        'POST /v1/click/beacon',
      );
    }
    for (let i = 0; i < answers.length; i += 20) {
      await expectOk(
        callApi('conversion', {
          apiKey: property.webhookSecret,
          sourceIp: '10.0.0.2',
          body: { click_id: answers[i]!.click_id, value: 10 },
        }),
        'POST /v1/webhook/conversion',
      );
    }
    const followUpCpu = process.cpuUsage(followUpCpuBefore);
    const followUpRounds = meter.rounds;
    await drainQueue(service.sqs, 'beaconScorer');
    await drainQueue(service.sqs, 'conversionScorer');
    const rescore = take(meter);
    await drainQueue(service.sqs, 'clickCounter');
    const counter = take(meter);
    const countedClicks = (await service.countedClicks(property)) - WARM_UP;
    take(meter);

    const followUps = answers.length + Math.ceil(answers.length / 20);
    const requests = clicks + followUps;
    const meterUnits = (pass: Pass) =>
      [...pass.byFamily].filter(([family]) => family.endsWith(' METER')).reduce((sum, [, units]) => sum + units, 0);
    const per = (n: number) => n / clicks;
    const cpuMs = cpuOfDeployed.warmMs;
    const rounds = per(sync.rounds);
    // Lambda: the click function's duration (CPU + round trips on AWS) for each click, the beacon's and the
    // conversion webhook's for each of theirs, and every API request's invocation charge.
    const billedMs = (cpuMicros: number, roundTrips: number, n: number) =>
      n * Math.ceil(cpuMicros / 1000 / n + (roundTrips / n) * AWS_ROUND_TRIP_MS);
    const lambdaMs =
      billedMs(cpuMs * 1000 * clicks, sync.rounds, clicks) +
      billedMs(followUpCpu.user + followUpCpu.system, followUpRounds, followUps);
    const lambda =
      per(lambdaMs / 1000) * (LAMBDA_MEMORY_MB / 1024) * PRICES.lambdaPerGbSecond * 1e6 +
      per(requests) * PRICES.lambdaPerMillionRequests;
    const allInWrite = per(sync.write + rescore.write + counter.write);
    const allInRead = per(sync.read + rescore.read + counter.read);
    const passes = [sync, rescore, counter];
    const allInWriteOnAws =
      allInWrite + per(passes.reduce((sum, pass) => sum + 2 * pass.transactItems - pass.transactUnits, 0));
    const cost = {
      apiGateway: per(requests) * PRICES.apiGatewayPerMillion,
      lambda,
      dynamoWrites: allInWriteOnAws * PRICES.dynamoPerMillionWru,
      dynamoReads: allInRead * PRICES.dynamoPerMillionRru,
      sqs: SQS_REQUESTS_PER_CLICK * PRICES.sqsPerMillionRequests,
    };
    const families = (map: Map<string, number>) =>
      Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, rounded(v / clicks, 2)]));
    return {
      clicks,
      dynamoCallsPerClick: rounded(per(sync.calls), 2),
      readUnitsPerClick: rounded(per(sync.read), 2),
      writeUnitsPerClick: rounded(per(sync.write), 2),
      rescoreWriteUnitsPerClick: rounded(per(rescore.write), 2),
      counterWriteUnitsPerClick: rounded(per(counter.write), 2),
      allInWriteUnitsPerClick: rounded(allInWrite, 2),
      allInReadUnitsPerClick: rounded(allInRead, 2),
      allInWriteUnitsOnAws: rounded(allInWriteOnAws, 2),
      meterWriteUnitsPerRequest: rounded((meterUnits(sync) + meterUnits(rescore)) / requests, 2),
      countedClicks,
      sequentialRoundTrips: rounded(rounds, 2),
      cpuMsPerClick: rounded(cpuMs, 2),
      newContainerCpuMsPerClick: rounded(cpuOfDeployed.newContainerMs, 2),
      localWallMsPerClick: rounded(wallMs / clicks, 2),
      unitsByFamily: families(sync.byFamily),
      callsByFamily: families(sync.callsByFamily),
      rescoreUnitsByFamily: families(rescore.byFamily),
      counterUnitsByFamily: families(counter.byFamily),
      costPerMillionClicks: {
        ...Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, rounded(v, 2)])),
        total: rounded(
          Object.values(cost).reduce((a, b) => a + b, 0),
          2,
        ),
      },
      assumptions: [
        'us-east-1 list prices: API Gateway REST $3.50/M, Lambda arm64 $0.0000133334/GB-s + $0.20/M, DynamoDB on-demand $0.625/M WRU and $0.125/M RRU, SQS $0.40/M requests',
        `API Gateway and Lambda requests: ${rounded(per(requests), 2)} per click (the click, its beacon, a twentieth of a conversion)`,
        `Lambda ${LAMBDA_MEMORY_MB} MB; AWS duration = measured CPU + ${AWS_ROUND_TRIP_MS} ms per sequential DynamoDB round trip, per request, rounded up to 1 ms (the scorers' and the counter's own Lambda time, batched, not included)`,
        'capacity units as DynamoDB Local reports them with ReturnConsumedCapacity TOTAL; it under-reports transactions, which AWS bills 2 units per item per KB: the AWS figure and the cost count every transactional item at 2 units',
        `all-in = synchronous path + one public-key beacon per click + a conversion webhook for every 20th click (their requests, the rate meter included, and their scorers) + the click counter (batches of 100); SQS: ${SQS_REQUESTS_PER_CLICK} requests per click (count message, beacon, their batched receive/delete)`,
        'the handlers as deployed, one warm container each: the rate meter (per-container batching), key lookups and the property cache (one GetItem per container per 10 s) are in the figures; the authorizer runs before the conversion webhook, as on AWS',
      ],
    };
  } finally {
    unhook();
    service.stop();
  }
}

const WARM_UP = 20;
/** Clicks after a new container's first ones before its CPU is measured (JIT compilation settles within). */
const CONTAINER_WARM_UP = 2_000;

/** SQS requests per click: the count message and the beacon (sent), receive + delete batched by 10 or more. */
const SQS_REQUESTS_PER_CLICK = 2.4;

export interface ThroughputFigures {
  readonly concurrency: number;
  readonly clicksPerSecond: number;
  readonly p50Ms: number;
  readonly failures: number;
  readonly dynamoUpdatesPerSecond: number;
  readonly ratio: number;
  readonly counted: number;
  readonly accepted: number;
  /** DynamoDB Local's own CPU (its Java process) per click and per bench UpdateItem, where /proc tells. */
  readonly dynamoLocalCpu?: {
    readonly msPerClick: number;
    readonly msPerUpdate: number;
    /** Its JIT compiler threads' CPU during each side's measured rounds: ~0 when the comparison is fair. */
    readonly compilerCoresDuringClicks: number;
    readonly compilerCoresDuringUpdates: number;
  };
}

/**
 * 32 concurrent secret-key clicks through the click function, and 32 concurrent UpdateItems on the same table
 * (DynamoDB Local's own rate), measured in alternating rounds: the click path's throughput as a share of what the
 * emulator can take. DynamoDB Local is a JVM: for its first half-minute or more under load its JIT compiler takes
 * over half a core, so both sides first alternate until that compiler has settled, and then each measured round
 * of clicks is followed by one of UpdateItems, so neither side runs on a JVM the other has not. The click counter
 * then runs over everything accepted, and the stats must equal the accepted count. The property is on the Network
 * plan (60,000 requests a minute), so the meter admits all.
 */
export async function benchThroughput(target: {
  tableName: string;
  /** Seconds of measured clicks (the UpdateItem side gets half), split over MEASURED_ROUNDS. */
  seconds?: number;
  /** The emulator process: DynamoDB Local is its `java` child, whose CPU is read from /proc (Linux). */
  emulatorPid?: number;
}): Promise<ThroughputFigures> {
  const seconds = target.seconds ?? 12;
  const concurrency = 32;
  const service = benchService();
  const raw = new DynamoDBDocumentClient({ maxAttempts: 3 });
  try {
    const property = await service.createProperty('network');
    let next = 0;
    const run = (ms: number, step: (worker: number, i: number) => Promise<void>) => concurrently(concurrency, ms, step);
    const update = referenceUpdate(raw, target.tableName, property.id);
    const dynamoLocal = target.emulatorPid === undefined ? undefined : descendantNamed(target.emulatorPid, 'java');
    const jvm = dynamoLocal === undefined ? undefined : new JvmMeter(dynamoLocal);

    let warmUpClicks = 0;
    const warmUpClick = async () => {
      if ((await serverClick(property, 500_000 + next++)).status === 200) warmUpClicks++;
    };
    for (let round = 0; round < MAX_WARM_UP_ROUNDS; round++) {
      jvm?.start();
      await run(WARM_UP_ROUND_MS, warmUpClick);
      await run(WARM_UP_ROUND_MS / 2, update);
      const compiler = jvm?.read().compilerCores;
      if (round + 1 >= MIN_WARM_UP_ROUNDS && (compiler === undefined || compiler < JIT_SETTLED_CORES)) break;
    }

    const latencies: number[] = [];
    let failures = 0;
    const click = async () => {
      const t = performance.now();
      const answer = await serverClick(property, next++).catch(() => ({ status: 500 }));
      if (answer.status === 200) latencies.push(performance.now() - t);
      else failures++;
    };
    const clicks = { seconds: 0, cpu: 0, compiler: 0 };
    const updates = { done: 0, seconds: 0, cpu: 0, compiler: 0 };
    for (let round = 0; round < MEASURED_ROUNDS; round++) {
      jvm?.start();
      clicks.seconds += (await run((seconds * 1000) / MEASURED_ROUNDS, click)).seconds;
      const afterClicks = jvm?.read();
      jvm?.start();
      const updated = await run((seconds * 500) / MEASURED_ROUNDS, update);
      const afterUpdates = jvm?.read();
      updates.done += updated.done;
      updates.seconds += updated.seconds;
      clicks.cpu += afterClicks?.cpuSeconds ?? 0;
      clicks.compiler += afterClicks?.compilerCpuSeconds ?? 0;
      updates.cpu += afterUpdates?.cpuSeconds ?? 0;
      updates.compiler += afterUpdates?.compilerCpuSeconds ?? 0;
    }
    await drainQueue(service.sqs, 'clickCounter');
    const counted = (await service.countedClicks(property)) - warmUpClicks;
    latencies.sort((a, b) => a - b);
    const clicksPerSecond = latencies.length / clicks.seconds;
    const dynamoUpdatesPerSecond = updates.done / updates.seconds;
    return {
      concurrency,
      clicksPerSecond: rounded(clicksPerSecond, 1),
      p50Ms: rounded(latencies[Math.floor(latencies.length / 2)] ?? 0, 1),
      failures,
      dynamoUpdatesPerSecond: rounded(dynamoUpdatesPerSecond, 1),
      ratio: rounded(clicksPerSecond / dynamoUpdatesPerSecond, 3),
      accepted: latencies.length,
      counted,
      dynamoLocalCpu: jvm && {
        msPerClick: rounded((clicks.cpu * 1000) / (latencies.length + failures), 2),
        msPerUpdate: rounded((updates.cpu * 1000) / updates.done, 2),
        compilerCoresDuringClicks: rounded(clicks.compiler / clicks.seconds, 2),
        compilerCoresDuringUpdates: rounded(updates.compiler / updates.seconds, 2),
      },
    };
  } finally {
    raw.destroy();
    service.stop();
  }
}

/** Warm-up rounds (4 s of clicks, 2 s of UpdateItems each): at least MIN, then until DynamoDB Local's JIT settles. */
const WARM_UP_ROUND_MS = 4_000;
const MIN_WARM_UP_ROUNDS = 3;
const MAX_WARM_UP_ROUNDS = 12;
/** The JIT compiler threads' CPU (cores) under which DynamoDB Local counts as compiled. */
const JIT_SETTLED_CORES = 0.1;
const MEASURED_ROUNDS = 3;

export function formatThroughput(t: ThroughputFigures): string {
  return [
    `${t.concurrency}-way secret-key clicks  ${t.clicksPerSecond}/s, p50 ${t.p50Ms} ms, ${t.failures} failed`,
    `${t.concurrency}-way UpdateItem (DynamoDB Local alone)  ${t.dynamoUpdatesPerSecond}/s`,
    `ratio clicks / UpdateItems  ${t.ratio} (in process: no gateway, DynamoDB Local in memory; issue 10's end-to-end figure is the next section's)`,
    `stats after the click counter  ${t.counted} counted of ${t.accepted} accepted`,
    ...(t.dynamoLocalCpu
      ? [
          `DynamoDB Local's CPU  ${t.dynamoLocalCpu.msPerClick} ms per click, ${t.dynamoLocalCpu.msPerUpdate} ms per UpdateItem: ` +
            `while it is the bottleneck the ratio cannot pass ${rounded(t.dynamoLocalCpu.msPerUpdate / t.dynamoLocalCpu.msPerClick, 3)}`,
          `DynamoDB Local's JIT compiler  ${t.dynamoLocalCpu.compilerCoresDuringClicks} cores during the clicks, ` +
            `${t.dynamoLocalCpu.compilerCoresDuringUpdates} during the UpdateItems (warmed until it settled)`,
        ]
      : []),
  ].join('\n');
}

export function formatClickPath(f: ClickPathFigures): string {
  const lines = [
    `clicks measured          ${f.clicks}`,
    `DynamoDB calls / click   ${f.dynamoCallsPerClick} (synchronous path)`,
    `sequential round trips   ${f.sequentialRoundTrips}`,
    `RCU / click              ${f.readUnitsPerClick} (synchronous path)`,
    `WCU / click              ${f.writeUnitsPerClick} (synchronous path)`,
    `  + beacon & conversion  ${f.rescoreWriteUnitsPerClick}`,
    `  + click counter        ${f.counterWriteUnitsPerClick}`,
    `WCU / click all-in       ${f.allInWriteUnitsPerClick} as DynamoDB Local reports it (target <= 8); RCU all-in ${f.allInReadUnitsPerClick}`,
    `WCU / click all-in, AWS  ${f.allInWriteUnitsOnAws} (transactional items billed 2 units each)`,
    `  rate meter             ${f.meterWriteUnitsPerRequest} WCU per request (clicks, beacons, conversions)`,
    `stats count              ${f.countedClicks} of ${f.clicks} clicks`,
    `handler CPU / click      ${f.cpuMsPerClick} ms in a warm container (excludes I/O waits; target <= 3)`,
    `  new container          ${f.newContainerCpuMsPerClick} ms per click over its first ${f.clicks} (module loads, JIT)`,
    `local wall / click       ${f.localWallMsPerClick} ms (DynamoDB Local bound)`,
    'DynamoDB calls / click by command and item family, synchronous path:',
    ...Object.entries(f.callsByFamily).map(([k, v]) => `  ${k.padEnd(40)} ${v}`),
    'capacity units / click by command and item family, synchronous path:',
    ...Object.entries(f.unitsByFamily).map(([k, v]) => `  ${k.padEnd(40)} ${v}`),
    'beacon + conversion scorers:',
    ...Object.entries(f.rescoreUnitsByFamily).map(([k, v]) => `  ${k.padEnd(40)} ${v}`),
    'click counter:',
    ...Object.entries(f.counterUnitsByFamily).map(([k, v]) => `  ${k.padEnd(40)} ${v}`),
    'cost per million clicks (USD):',
    ...Object.entries(f.costPerMillionClicks).map(([k, v]) => `  ${k.padEnd(14)} ${v.toFixed(2)}`),
    'assumptions:',
    ...f.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n');
}
