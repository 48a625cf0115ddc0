import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDecisionStores } from '../shared/decisions';
import { recordClick } from '../shared/ingestion/clicks';
import { cachedProperties, dynamoIngestionDeps, signedTokens } from '../shared/ingestion/wiring';
import { bundledIntel } from '../shared/intel/current';
import type { PropertyRecord } from '../shared/properties/model';

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
/** SQS requests per beacon: one SendMessage, plus receive and delete batched by 10 in the event source mapping. */
const SQS_REQUESTS_PER_BEACON = 1.2;

export interface ClickPathFigures {
  readonly clicks: number;
  readonly dynamoCallsPerClick: number;
  readonly readUnitsPerClick: number;
  readonly writeUnitsPerClick: number;
  readonly sequentialRoundTrips: number;
  readonly cpuMsPerClick: number;
  readonly localWallMsPerClick: number;
  readonly costPerMillionClicks: Record<string, number>;
  /** Capacity units per click by command and item family. */
  readonly unitsByFamily: Record<string, number>;
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
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      meter.calls += 1;
      if (meter.inFlight === 0) meter.rounds += 1;
      meter.inFlight += 1;
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        const family = `${context.commandName ?? '?'} ${keyFamily(input)}`;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          const units = (c as { CapacityUnits?: number }).CapacityUnits ?? 0;
          meter.byFamily.set(family, (meter.byFamily.get(family) ?? 0) + units);
          const { ReadCapacityUnits, WriteCapacityUnits, CapacityUnits } = c as Record<string, number | undefined>;
          if (ReadCapacityUnits !== undefined || WriteCapacityUnits !== undefined) {
            meter.read += ReadCapacityUnits ?? 0;
            meter.write += WriteCapacityUnits ?? 0;
          } else if (CapacityUnits !== undefined) {
            // Only the total came back: reads and writes are told apart by the command.
            if (/Get|Query|Scan/.test(String((args as { constructor?: unknown }).constructor)))
              meter.read += CapacityUnits;
            else meter.write += CapacityUnits;
          }
        }
        return result;
      } finally {
        meter.inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'consumedCapacityMeter' },
  );
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

/**
 * The synchronous POST /v1/click path against DynamoDB Local (the caller sets AWS_ENDPOINT_URL_DYNAMODB
 * and names the table): DynamoDB calls, capacity units, sequential round trips and CPU per click, and
 * the AWS cost per million clicks at list prices. The property config is read through the in-memory
 * cache, as at steady state on a warm Lambda (one GetItem per container per 10 s otherwise).
 */
export async function benchClickPath(target: { tableName: string; clicks?: number }): Promise<ClickPathFigures> {
  const clicks = target.clicks ?? 300;
  const meter: Meter = { byFamily: new Map(), calls: 0, read: 0, write: 0, inFlight: 0, rounds: 0 };
  const client = meteredClient(meter);
  const propertyId = `prop_bench${randomBytes(6).toString('hex')}`;
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
  const deps = dynamoIngestionDeps({
    client,
    tableName: target.tableName,
    properties: cachedProperties(async () => record),
    tokens: signedTokens(async () => Buffer.alloc(32, 1)),
    queues: { send: async () => undefined },
    intel: async () => bundledIntel(),
    decisions: dynamoDecisionStores(client, target.tableName),
  });
  const ua =
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const one = (i: number) =>
    recordClick(deps, {
      kind: 'public',
      propertyId,
      sourceIp: `81.2.${(i >> 8) & 255}.${i & 255}`,
      userAgent: ua,
      gclid: `bench-${i}`,
      visitorId: `vis_bench${i % 50}`,
      pageUrl: `https://shop.example/?gclid=bench-${i}&campaignid=${i % 7}&network=g`,
    });

  for (let i = 0; i < 20; i++) await one(100_000 + i); // warm-up: JIT, connections, source-quality cache
  Object.assign(meter, { calls: 0, read: 0, write: 0, rounds: 0 });
  meter.byFamily.clear();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < clicks; i++) await one(i);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  client.destroy();

  const per = (n: number) => n / clicks;
  const cpuMs = (cpu.user + cpu.system) / 1000 / clicks;
  const rounds = per(meter.rounds);
  const awsDurationMs = Math.ceil(cpuMs + rounds * AWS_ROUND_TRIP_MS);
  const lambda =
    (awsDurationMs / 1000) * (LAMBDA_MEMORY_MB / 1024) * PRICES.lambdaPerGbSecond * 1e6 +
    PRICES.lambdaPerMillionRequests;
  const cost = {
    apiGateway: PRICES.apiGatewayPerMillion,
    lambda,
    dynamoWrites: per(meter.write) * PRICES.dynamoPerMillionWru,
    dynamoReads: per(meter.read) * PRICES.dynamoPerMillionRru,
    sqsBeacons: SQS_REQUESTS_PER_BEACON * PRICES.sqsPerMillionRequests,
  };
  const round2 = (n: number) => Math.round(n * 100) / 100;
  return {
    clicks,
    dynamoCallsPerClick: round2(per(meter.calls)),
    readUnitsPerClick: round2(per(meter.read)),
    writeUnitsPerClick: round2(per(meter.write)),
    sequentialRoundTrips: round2(rounds),
    cpuMsPerClick: round2(cpuMs),
    localWallMsPerClick: round2(wallMs / clicks),
    unitsByFamily: Object.fromEntries([...meter.byFamily].map(([k, v]) => [k, round2(v / clicks)])),
    costPerMillionClicks: {
      ...Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round2(v)])),
      total: round2(Object.values(cost).reduce((a, b) => a + b, 0)),
    },
    assumptions: [
      'us-east-1 list prices: API Gateway REST $3.50/M, Lambda arm64 $0.0000133334/GB-s + $0.20/M, DynamoDB on-demand $0.625/M WRU and $0.125/M RRU, SQS $0.40/M requests',
      `Lambda ${LAMBDA_MEMORY_MB} MB; AWS duration = measured CPU per click + ${AWS_ROUND_TRIP_MS} ms per sequential DynamoDB round trip, rounded up to 1 ms`,
      'capacity units as DynamoDB Local reports them with ReturnConsumedCapacity TOTAL (transactions count double, as on AWS)',
      `one beacon per click: ${SQS_REQUESTS_PER_BEACON} SQS requests (send + batched receive/delete); the beacon scorer's own Lambda and DynamoDB cost not included`,
      "property config from the warm container cache (one GetItem per container per 10 s otherwise); the rate meter's counters are not part of this path",
    ],
  };
}

export function formatClickPath(f: ClickPathFigures): string {
  const lines = [
    `clicks measured          ${f.clicks}`,
    `DynamoDB calls / click   ${f.dynamoCallsPerClick}`,
    `RCU / click              ${f.readUnitsPerClick}`,
    `WCU / click              ${f.writeUnitsPerClick}`,
    `sequential round trips   ${f.sequentialRoundTrips}`,
    `handler CPU / click      ${f.cpuMsPerClick} ms (excludes I/O waits)`,
    `local wall / click       ${f.localWallMsPerClick} ms (DynamoDB Local bound)`,
    'capacity units / click by item family:',
    ...Object.entries(f.unitsByFamily).map(([k, v]) => `  ${k.padEnd(34)} ${v}`),
    'cost per million clicks (USD):',
    ...Object.entries(f.costPerMillionClicks).map(([k, v]) => `  ${k.padEnd(14)} ${v.toFixed(2)}`),
    'assumptions:',
    ...f.assumptions.map((a) => `  - ${a}`),
  ];
  return lines.join('\n');
}
