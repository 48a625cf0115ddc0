import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalStackProcess } from '../infra/local/process';
import { DynamoDBDocumentClient } from '../shared/store/aws/dynamodb';
import type { ThroughputFigures } from './click-path';
import { descendantNamed, JvmMeter, treeCpuSeconds } from './proc';
import { rounded } from './round';
import { concurrently, referenceUpdate, serverClickBody } from './traffic';

/**
 * The local throughput as issue 10 measures it, from outside the service: `npm start` in a process of its own (the
 * local gateway, the handlers, the queue consumers running, DynamoDB Local keeping its data on disk), 32 concurrent
 * secret-key clicks over HTTP from this process, and 32 concurrent UpdateItems straight to that DynamoDB Local, in
 * alternating rounds after both have warmed. Beside bench/click-path.ts's in-process figure (handlers called
 * directly, DynamoDB Local in memory), this is the figure a user of `npm start` sees.
 */
export interface OutsideFigures extends Omit<ThroughputFigures, 'dynamoLocalCpu'> {
  /** Each measured round's ratio: the spread of a disk-bound emulator. (`failures` counts the warm-up rounds too.) */
  readonly roundRatios: readonly number[];
  /** DynamoDB Local's CPU per click and per UpdateItem, where /proc tells. */
  readonly dynamoLocalCpu?: { readonly msPerClick: number; readonly msPerUpdate: number };
  /**
   * The rest of a click's CPU during the click rounds: `npm start`'s node processes (the gateway, the handlers, the
   * queue consumers, fauxqs and s3rver) and this process sending the clicks.
   */
  readonly cpuPerClick: { readonly serviceMs: number; readonly clientMs: number };
}

const CONCURRENCY = 32;
const WARM_UP_ROUNDS = 3;
const MEASURED_ROUNDS = 6;
/** Each round: this long of clicks, then half as long of UpdateItems. */
const ROUND_MS = 5_000;
/** The click counter runs every few seconds in the local stack: how long to wait for the stats to catch up. */
const COUNTED_WITHIN_MS = 90_000;

export async function benchFromOutside(env: NodeJS.ProcessEnv): Promise<OutsideFigures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'clicksieve-outside-'));
  const stack = await startLocalStackProcess({ dataDir, env: { ...env, POWERTOOLS_LOG_LEVEL: 'WARN' } }).catch(
    (error: unknown) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    },
  );
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const dynamo = new DynamoDBDocumentClient({
    endpoint: stack.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 3,
  });
  try {
    const api = (method: string, route: string, headers: Record<string, string>, body?: unknown) =>
      call(agent, stack.api, method, route, headers, body);
    const adminKey = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
    const created = await api(
      'POST',
      '/v1/properties',
      { 'x-admin-key': adminKey },
      { name: 'bench', plan: 'network' },
    );
    if (created.status !== 201) throw new Error(`POST /v1/properties answered ${created.status}`);
    const property = JSON.parse(created.body) as { id: string; secretKey: string };

    let next = 0;
    let accepted = 0;
    let failures = 0;
    const latencies: number[] = [];
    const click = async (measured: boolean) => {
      const started = performance.now();
      const answer = await api(
        'POST',
        '/v1/click',
        { 'x-api-key': property.secretKey },
        serverClickBody(next++, 'out'),
      );
      if (answer.status === 200) {
        accepted++;
        if (measured) latencies.push(performance.now() - started);
      } else failures++;
    };
    const update = referenceUpdate(dynamo, stack.tableName, property.id);

    const java = descendantNamed(stack.process.pid!, 'java');
    const jvm = java === undefined ? undefined : new JvmMeter(java);
    const clicks = { done: 0, seconds: 0, cpu: 0, serviceCpu: 0, clientCpu: 0 };
    const updates = { done: 0, seconds: 0, cpu: 0 };
    const roundRatios: number[] = [];
    for (let round = 0; round < WARM_UP_ROUNDS + MEASURED_ROUNDS; round++) {
      const measured = round >= WARM_UP_ROUNDS;
      jvm?.start();
      const service = treeCpuSeconds(stack.process.pid!, 'java');
      const client = process.cpuUsage();
      const clicked = await concurrently(CONCURRENCY, ROUND_MS, () => click(measured));
      const clickCpu = jvm?.read().cpuSeconds ?? 0;
      const serviceCpu = treeCpuSeconds(stack.process.pid!, 'java') - service;
      const clientCpu = process.cpuUsage(client);
      jvm?.start();
      const updated = await concurrently(CONCURRENCY, ROUND_MS / 2, update);
      const updateCpu = jvm?.read().cpuSeconds ?? 0;
      if (!measured) continue;
      roundRatios.push(rounded(clicked.done / clicked.seconds / (updated.done / updated.seconds), 3));
      clicks.done += clicked.done;
      clicks.seconds += clicked.seconds;
      clicks.cpu += clickCpu;
      clicks.serviceCpu += serviceCpu;
      clicks.clientCpu += (clientCpu.user + clientCpu.system) / 1e6;
      updates.done += updated.done;
      updates.seconds += updated.seconds;
      updates.cpu += updateCpu;
    }

    const counted = await countedWithin(COUNTED_WITHIN_MS, accepted, async () => {
      const stats = await api('GET', `/v1/property/${property.id}/stats?range=7days`, {
        'x-api-key': property.secretKey,
      });
      return stats.status === 200 ? (JSON.parse(stats.body) as { totalDecisions: number }).totalDecisions : 0;
    });
    latencies.sort((a, b) => a - b);
    const clicksPerSecond = latencies.length / clicks.seconds;
    const dynamoUpdatesPerSecond = updates.done / updates.seconds;
    return {
      concurrency: CONCURRENCY,
      clicksPerSecond: rounded(clicksPerSecond, 1),
      p50Ms: rounded(latencies[Math.floor(latencies.length / 2)] ?? 0, 1),
      failures,
      dynamoUpdatesPerSecond: rounded(dynamoUpdatesPerSecond, 1),
      ratio: rounded(clicksPerSecond / dynamoUpdatesPerSecond, 3),
      roundRatios,
      accepted,
      counted,
      dynamoLocalCpu: jvm && {
        msPerClick: rounded((clicks.cpu * 1000) / clicks.done, 2),
        msPerUpdate: rounded((updates.cpu * 1000) / updates.done, 2),
      },
      cpuPerClick: {
        serviceMs: rounded((clicks.serviceCpu * 1000) / clicks.done, 2),
        clientMs: rounded((clicks.clientCpu * 1000) / clicks.done, 2),
      },
    };
  } finally {
    agent.destroy();
    dynamo.destroy();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatOutside(f: OutsideFigures): string {
  return [
    `${f.concurrency}-way secret-key clicks over HTTP  ${f.clicksPerSecond}/s, p50 ${f.p50Ms} ms, ${f.failures} failed`,
    `${f.concurrency}-way UpdateItem on its DynamoDB Local  ${f.dynamoUpdatesPerSecond}/s`,
    `ratio clicks / UpdateItems  ${f.ratio} (target >= 0.2); by round ${f.roundRatios.join(', ')}`,
    `stats after the click counter  ${f.counted} counted of ${f.accepted} accepted (warm-up rounds included)`,
    ...(f.dynamoLocalCpu
      ? [
          `DynamoDB Local's CPU  ${f.dynamoLocalCpu.msPerClick} ms per click, ${f.dynamoLocalCpu.msPerUpdate} ms per UpdateItem`,
        ]
      : []),
    `the rest of a click's CPU  ${f.cpuPerClick.serviceMs} ms in npm start's node processes (gateway, handlers, consumers, ` +
      `fauxqs, s3rver), ${f.cpuPerClick.clientMs} ms sending it`,
  ].join('\n');
}

/** One HTTP request on the keep-alive agent: its status and body. */
function call(
  agent: Agent,
  base: string,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(route, base),
      {
        method,
        agent,
        headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls `read` until it reaches `expected` or `ms` pass: the last value read. */
async function countedWithin(ms: number, expected: number, read: () => Promise<number>): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value >= expected || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
