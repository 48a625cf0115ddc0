import { randomBytes } from 'node:crypto';
import { acceptBeacon, applyBeacon } from '../shared/ingestion/beacons';
import { recordClick } from '../shared/ingestion/clicks';
import { acceptConversion, applyConversion } from '../shared/ingestion/conversions';
import { countClicks } from '../shared/ingestion/counting';
import type { BeaconMessage, ConversionMessage, CountMessage } from '../shared/ingestion/messages';
import type { QueuePort } from '../shared/ingestion/ports';
import { cachedProperties, dynamoIngestionDeps, signedTokens } from '../shared/ingestion/wiring';
import { bundledIntel } from '../shared/intel/current';
import type { PropertyRecord } from '../shared/properties/model';
import { dynamoClickStores } from '../shared/store';
import { DynamoDBDocumentClient, UpdateCommand } from '../shared/store/aws/dynamodb';

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

export interface ClickPathFigures {
  readonly clicks: number;
  readonly dynamoCallsPerClick: number;
  readonly readUnitsPerClick: number;
  readonly writeUnitsPerClick: number;
  readonly rescoreWriteUnitsPerClick: number;
  readonly counterWriteUnitsPerClick: number;
  readonly allInWriteUnitsPerClick: number;
  readonly allInReadUnitsPerClick: number;
  readonly countedClicks: number;
  readonly sequentialRoundTrips: number;
  readonly cpuMsPerClick: number;
  readonly localWallMsPerClick: number;
  readonly costPerMillionClicks: Record<string, number>;
  /** Capacity units per click by command and item family. */
  readonly unitsByFamily: Record<string, number>;
  readonly rescoreUnitsByFamily: Record<string, number>;
  readonly counterUnitsByFamily: Record<string, number>;
  readonly assumptions: readonly string[];
}

interface Meter {
  /** Capacity units by command and key family (`UpdateCommand VEL`, `TransactWriteCommand CLK+STAT`, …). */
  byFamily: Map<string, number>;
  calls: number;
  read: number;
  write: number;
  inFlight: number;
  rounds: number;
}

/** A document client that asks for ConsumedCapacity on every call and adds it up, counting round trips. */
function meteredClient(meter: Meter): DynamoDBDocumentClient {
  const client = new DynamoDBDocumentClient();
  client.intercept(async (command, next) => {
    const input = command.input as Record<string, unknown>;
    input.ReturnConsumedCapacity = 'TOTAL';
    meter.calls += 1;
    if (meter.inFlight === 0) meter.rounds += 1;
    meter.inFlight += 1;
    try {
      const output = await next();
      const consumed = (output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const family = `${command.commandName} ${keyFamily(input)}`;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const units = (c as { CapacityUnits?: number }).CapacityUnits ?? 0;
        meter.byFamily.set(family, (meter.byFamily.get(family) ?? 0) + units);
        const { ReadCapacityUnits, WriteCapacityUnits, CapacityUnits } = c as Record<string, number | undefined>;
        if (ReadCapacityUnits !== undefined || WriteCapacityUnits !== undefined) {
          meter.read += ReadCapacityUnits ?? 0;
          meter.write += WriteCapacityUnits ?? 0;
        } else if (CapacityUnits !== undefined) {
          // Only the total came back: reads and writes are told apart by the command.
          if (/Get|Query|Scan/.test(command.commandName)) meter.read += CapacityUnits;
          else meter.write += CapacityUnits;
        }
      }
      return output;
    } finally {
      meter.inFlight -= 1;
    }
  });
  return client;
}

function keyFamily(input: Record<string, unknown>): string {
  const pkOf = (o: unknown) => String((o as { pk?: unknown } | undefined)?.pk ?? '').split('#')[0];
  if (Array.isArray(input.TransactItems)) {
    return input.TransactItems.map((t: Record<string, { Key?: unknown; Item?: unknown }>) => {
      const op = Object.values(t)[0];
      return pkOf(op?.Key ?? op?.Item);
    }).join('+');
  }
  return pkOf(input.Key ?? input.Item) || 'batch';
}

interface Pass {
  calls: number;
  read: number;
  write: number;
  rounds: number;
  byFamily: Map<string, number>;
}

function take(meter: Meter): Pass {
  const pass = {
    calls: meter.calls,
    read: meter.read,
    write: meter.write,
    rounds: meter.rounds,
    byFamily: new Map(meter.byFamily),
  };
  Object.assign(meter, { calls: 0, read: 0, write: 0, rounds: 0 });
  meter.byFamily.clear();
  return pass;
}

export interface ThroughputFigures {
  readonly concurrency: number;
  readonly clicksPerSecond: number;
  readonly p50Ms: number;
  readonly failures: number;
  readonly dynamoUpdatesPerSecond: number;
  readonly ratio: number;
  readonly counted: number;
  readonly accepted: number;
}

/**
 * The POST /v1/click path against DynamoDB Local (the caller sets AWS_ENDPOINT_URL_DYNAMODB and names the
 * table), measured from the DynamoDB client: calls, capacity units, sequential round trips and CPU per
 * click on the synchronous path; then one beacon per click and a conversion for every 20th applied by the
 * scorers, and the click counter counting all of it — the all-in capacity units per click. The property
 * config is read through the in-memory cache, as at steady state on a warm Lambda.
 */
export async function benchClickPath(target: { tableName: string; clicks?: number }): Promise<ClickPathFigures> {
  const clicks = target.clicks ?? 200;
  const meter: Meter = { byFamily: new Map(), calls: 0, read: 0, write: 0, inFlight: 0, rounds: 0 };
  const client = meteredClient(meter);
  const propertyId = `prop_bench${randomBytes(6).toString('hex')}`;
  const counts: CountMessage[] = [];
  const beacons: BeaconMessage[] = [];
  const conversions: ConversionMessage[] = [];
  const deps = benchDeps(client, target.tableName, propertyId, {
    async send(queue, message) {
      if (queue === 'counts') counts.push(message as CountMessage);
      else if (queue === 'beacons') beacons.push(message as BeaconMessage);
      else if (queue === 'conversions') conversions.push(message as ConversionMessage);
    },
  });
  const one = (i: number) => recordClick(deps, benchClick(propertyId, i));

  for (let i = 0; i < 20; i++) await one(100_000 + i); // warm-up: JIT, connections, source-quality cache
  take(meter);
  counts.length = 0;
  const answers: Awaited<ReturnType<typeof one>>[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < clicks; i++) answers.push(await one(i));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const sync = take(meter);

  // One beacon per click, a conversion for every 20th, then the click counter over everything sent.
  for (const [i, answer] of answers.entries()) {
    await acceptBeacon(deps, {
      propertyId,
      receivedAt: Date.now(),
      clickId: answer.click_id,
      behaviour: { timeOnPageSeconds: 20 + (i % 30), scrollDepth: 0.6, mouseEntropy: 0.7 },
    });
  }
  for (const message of beacons.splice(0)) await applyBeacon(deps, message);
  for (let i = 0; i < answers.length; i += 20) {
    await acceptConversion(deps, { propertyId, receivedAt: Date.now(), clickId: answers[i]!.click_id, value: 10 });
  }
  for (const message of conversions.splice(0)) await applyConversion(deps, message);
  const rescore = take(meter);
  for (let i = 0; i < counts.length; i += 100) await countClicks(deps, counts.slice(i, i + 100));
  const counter = take(meter);
  const stats = await deps.clickStores.rollups.readDays(propertyId, [new Date().toISOString().slice(0, 10)]);
  take(meter);
  client.destroy();

  const per = (n: number) => n / clicks;
  const cpuMs = (cpu.user + cpu.system) / 1000 / clicks;
  const rounds = per(sync.rounds);
  const awsDurationMs = Math.ceil(cpuMs + rounds * AWS_ROUND_TRIP_MS);
  const lambda =
    (awsDurationMs / 1000) * (LAMBDA_MEMORY_MB / 1024) * PRICES.lambdaPerGbSecond * 1e6 +
    PRICES.lambdaPerMillionRequests;
  const allInWrite = per(sync.write + rescore.write + counter.write);
  const allInRead = per(sync.read + rescore.read + counter.read);
  const cost = {
    apiGateway: PRICES.apiGatewayPerMillion,
    lambda,
    dynamoWrites: allInWrite * PRICES.dynamoPerMillionWru,
    dynamoReads: allInRead * PRICES.dynamoPerMillionRru,
    sqs: SQS_REQUESTS_PER_CLICK * PRICES.sqsPerMillionRequests,
  };
  const round2 = (n: number) => Math.round(n * 100) / 100;
  const families = (pass: Pass) => Object.fromEntries([...pass.byFamily].map(([k, v]) => [k, round2(v / clicks)]));
  return {
    clicks,
    dynamoCallsPerClick: round2(per(sync.calls)),
    readUnitsPerClick: round2(per(sync.read)),
    writeUnitsPerClick: round2(per(sync.write)),
    rescoreWriteUnitsPerClick: round2(per(rescore.write)),
    counterWriteUnitsPerClick: round2(per(counter.write)),
    allInWriteUnitsPerClick: round2(allInWrite),
    allInReadUnitsPerClick: round2(allInRead),
    countedClicks: [...stats.values()][0]?.clicks ?? 0,
    sequentialRoundTrips: round2(rounds),
    cpuMsPerClick: round2(cpuMs),
    localWallMsPerClick: round2(wallMs / clicks),
    unitsByFamily: families(sync),
    rescoreUnitsByFamily: families(rescore),
    counterUnitsByFamily: families(counter),
    costPerMillionClicks: {
      ...Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round2(v)])),
      total: round2(Object.values(cost).reduce((a, b) => a + b, 0)),
    },
    assumptions: [
      'us-east-1 list prices: API Gateway REST $3.50/M, Lambda arm64 $0.0000133334/GB-s + $0.20/M, DynamoDB on-demand $0.625/M WRU and $0.125/M RRU, SQS $0.40/M requests',
      `Lambda ${LAMBDA_MEMORY_MB} MB; AWS duration = measured CPU per click + ${AWS_ROUND_TRIP_MS} ms per sequential DynamoDB round trip, rounded up to 1 ms (the scorers' and the counter's own Lambda time not included)`,
      'capacity units as DynamoDB Local reports them with ReturnConsumedCapacity TOTAL (transactions count double, as on AWS)',
      `all-in = synchronous path + one beacon per click + a conversion for every 20th click + the click counter (batches of 100); SQS: ${SQS_REQUESTS_PER_CLICK} requests per click (count message, beacon, their batched receive/delete)`,
      "property config from the warm container cache (one GetItem per container per 10 s otherwise); the rate meter's write (issue 8) is not part of this path",
    ],
  };
}

/** SQS requests per click: the count message and the beacon (sent), receive + delete batched by 10 or more. */
const SQS_REQUESTS_PER_CLICK = 2.4;

function benchDeps(client: DynamoDBDocumentClient, tableName: string, propertyId: string, queues: QueuePort) {
  const record: PropertyRecord = {
    id: propertyId,
    name: 'bench',
    plan: 'starter',
    currency: 'USD',
    timezone: 'UTC',
    config: {},
    keyHashes: { public: '0'.repeat(64), secret: '1'.repeat(64), webhook: '2'.repeat(64) },
    usageKey: 'bench',
    usageKeyId: 'local',
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    disabled: false,
  };
  return dynamoIngestionDeps({
    client,
    tableName,
    properties: cachedProperties(async () => record),
    tokens: signedTokens(async () => Buffer.alloc(32, 1)),
    queues,
    intel: async () => bundledIntel(),
    clickStores: dynamoClickStores(client, tableName),
  });
}

const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/**
 * An ordinary server-side click: its own visitor, address and /24 (200 clicks from one /24 within seconds
 * are a fraud burst, whose extra writes — the addresses' blocklist records — are not the typical cost).
 */
function benchClick(propertyId: string, i: number) {
  return {
    kind: 'secret' as const,
    propertyId,
    sourceIp: '10.0.0.1',
    ip: `81.${2 + ((i >> 16) & 63)}.${i & 255}.${(i >> 8) & 255}`,
    userAgent: UA,
    gclid: `bench-${i}`,
    visitorId: `vis_bench${i}`,
    pageUrl: `https://shop.example/?gclid=bench-${i}&campaignid=${i % 7}&network=g`,
  };
}

/**
 * 32 concurrent secret-key clicks for `seconds`, then DynamoDB Local's own rate for 32 concurrent
 * UpdateItems on the same table: the click path's throughput as a share of what the emulator can take.
 * The click counter then runs over everything accepted, and the stats must equal the accepted count.
 */
export async function benchThroughput(target: { tableName: string; seconds?: number }): Promise<ThroughputFigures> {
  const seconds = target.seconds ?? 8;
  const concurrency = 32;
  const client = new DynamoDBDocumentClient({ maxAttempts: 3 });
  const propertyId = `prop_tput${randomBytes(6).toString('hex')}`;
  const counts: CountMessage[] = [];
  const deps = benchDeps(client, target.tableName, propertyId, {
    async send(queue, message) {
      if (queue === 'counts') counts.push(message as CountMessage);
    },
  });
  for (let i = 0; i < 32; i++) await recordClick(deps, benchClick(propertyId, 200_000 + i));
  counts.length = 0;
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          await recordClick(deps, benchClick(propertyId, next++));
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  const clickSeconds = (performance.now() - started) / 1000;

  let updates = 0;
  const updateDeadline = performance.now() + (seconds / 2) * 1000;
  const updateStart = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < updateDeadline; i++) {
        await client.send(
          new UpdateCommand({
            TableName: target.tableName,
            Key: { pk: `BENCH#${propertyId}#${worker}#${i % 64}`, sk: 'BENCH' },
            UpdateExpression: 'ADD n :one SET expiresAt = :exp',
            ExpressionAttributeValues: { ':one': 1, ':exp': Math.floor(Date.now() / 1000) + 3600 },
          }),
        );
        updates++;
      }
    }),
  );
  const updateSeconds = (performance.now() - updateStart) / 1000;
  for (let i = 0; i < counts.length; i += 100) await countClicks(deps, counts.slice(i, i + 100));
  const stats = await deps.clickStores.rollups.readDays(propertyId, [new Date().toISOString().slice(0, 10)]);
  client.destroy();
  latencies.sort((a, b) => a - b);
  const clicksPerSecond = latencies.length / clickSeconds;
  const dynamoUpdatesPerSecond = updates / updateSeconds;
  const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
  return {
    concurrency,
    clicksPerSecond: round(clicksPerSecond),
    p50Ms: round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    failures,
    dynamoUpdatesPerSecond: round(dynamoUpdatesPerSecond),
    ratio: round(clicksPerSecond / dynamoUpdatesPerSecond, 3),
    accepted: latencies.length,
    counted: [...stats.values()].reduce((sum, day) => sum + day.clicks, 0),
  };
}

export function formatThroughput(t: ThroughputFigures): string {
  return [
    `${t.concurrency}-way secret-key clicks  ${t.clicksPerSecond}/s, p50 ${t.p50Ms} ms, ${t.failures} failed`,
    `${t.concurrency}-way UpdateItem (DynamoDB Local alone)  ${t.dynamoUpdatesPerSecond}/s`,
    `ratio clicks / UpdateItems  ${t.ratio} (target >= 0.2)`,
    `stats after the click counter  ${t.counted} counted of ${t.accepted} accepted`,
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
    `WCU / click all-in       ${f.allInWriteUnitsPerClick} (target <= 8); RCU all-in ${f.allInReadUnitsPerClick}`,
    `stats count              ${f.countedClicks} of ${f.clicks} clicks`,
    `handler CPU / click      ${f.cpuMsPerClick} ms (excludes I/O waits)`,
    `local wall / click       ${f.localWallMsPerClick} ms (DynamoDB Local bound)`,
    'capacity units / click by item family, synchronous path:',
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
