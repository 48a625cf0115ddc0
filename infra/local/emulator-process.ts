import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/**
 * The local AWS stand-ins in one child process: DynamoDB Local (AWS's jar, run by Java), fauxqs (SQS)
 * and s3rver (S3, which checks presigned URL expiry). emulators.ts starts it with an IPC channel:
 * fauxqs is ESM-only, and keeping the servers out of jest's or `npm start`'s process isolates them.
 * It stops, and takes Java with it, when the parent sends `stop` or goes away (IPC disconnect).
 */

export interface EmulatorConfig {
  /** DynamoDB Local keeps its files here; absent = `-inMemory`. */
  readonly dynamodbDir?: string;
  readonly s3Dir: string;
  /** On stop, every message of these queues is written here (fauxqs keeps messages in memory only). */
  readonly queueStateFile?: string;
  readonly persistQueues?: readonly string[];
}

export type ToParent =
  | { type: 'ready'; ports: { dynamodb: number; sqs: number; s3: number } }
  | { type: 'failed'; message: string }
  | { type: 'stopped' };
export type ToChild = { type: 'stop' };

/** One line of the queue state file per queue name: the messages to send again on the next start. */
export interface SavedMessage {
  readonly body: string;
  readonly messageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

export const CONFIG_ENV = 'CLICKSIEVE_EMULATOR_CONFIG';
const DYNAMODB_DIR = path.resolve(__dirname, '../../node_modules/amplify-dynamodb-simulator/emulator');
const JAVA_MISSING =
  'java was not found: DynamoDB Local needs Java 17 (install it: apt-get install -y default-jre-headless)';

interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverServer;

const send = (message: ToParent) => process.send?.(message);

/** Every Java started here; killed on any exit of this process, so no DynamoDB Local outlives it. */
const javaProcesses = new Set<ChildProcess>();
process.on('exit', () => {
  for (const java of javaProcesses) if (java.exitCode === null && java.signalCode === null) java.kill('SIGKILL');
});

async function main(): Promise<void> {
  const raw = process.env[CONFIG_ENV];
  if (!raw || !process.send) throw new Error('emulator-process is started by infra/local/emulators.ts');
  const config = JSON.parse(raw) as EmulatorConfig;
  let stopping = false;
  const tail: string[] = [];

  const dynamodb = await startDynamoDbLocal(config, tail, () => stopping);
  const startFauxqs = await loadFauxqs();
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  mkdirSync(config.s3Dir, { recursive: true });
  const S3rver = require('s3rver') as S3rverClass;
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: config.s3Dir });
  const s3Address = await s3rver.run();

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (config.queueStateFile && config.persistQueues) {
      const saved: Record<string, SavedMessage[]> = {};
      for (const name of config.persistQueues) {
        const queue = fauxqs.inspectQueue(name);
        if (!queue) continue;
        const { ready, delayed, inflight } = queue.messages;
        const messages = [...ready, ...delayed, ...inflight.map((entry) => entry.message)];
        if (messages.length > 0) {
          saved[name] = messages.map((m) => ({ body: m.body, messageAttributes: m.messageAttributes }));
        }
      }
      writeFileSync(config.queueStateFile, JSON.stringify(saved));
    }
    await Promise.allSettled([fauxqs.stop(), s3rver.close(), stopJava(dynamodb.process)]);
    send({ type: 'stopped' });
    process.exit(0);
  };

  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  // Ctrl-C reaches the whole process group: the parent drives the shutdown (it drains queues first).
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => void stop());
  dynamodb.process.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`DynamoDB Local exited (${signal ?? code}):\n${tail.join('\n')}\n`);
    process.exit(1);
  });

  send({ type: 'ready', ports: { dynamodb: dynamodb.port, sqs: fauxqs.port, s3: s3Address.port } });
}

/**
 * fauxqs@1.9.2 names queues `http://sqs.<region>.localhost:<port>/…`, a host that does not resolve
 * everywhere, and SDK clients configured by AWS_ENDPOINT_URL_SQS send requests to the QueueUrl's host.
 * Queue URLs on the host the client used (127.0.0.1:<port>) work for every client.
 */
async function loadFauxqs() {
  type StoreModule = { SqsStore: { prototype: { buildQueueUrl: (...args: string[]) => string } } };
  const storeFile = path.resolve(__dirname, '../../node_modules/fauxqs/dist/sqs/sqsStore.js');
  const { SqsStore } = (await import(pathToFileURL(storeFile).href)) as StoreModule;
  SqsStore.prototype.buildQueueUrl = (queueName, _port, requestHost) =>
    `http://${requestHost}/000000000000/${queueName}`;
  return (await import('fauxqs')).startFauxqs;
}

async function startDynamoDbLocal(
  config: EmulatorConfig,
  tail: string[],
  stopping: () => boolean,
): Promise<{ process: ChildProcess; port: number }> {
  const storage = config.dynamodbDir ? ['-dbPath', config.dynamodbDir] : ['-inMemory'];
  if (config.dynamodbDir) mkdirSync(config.dynamodbDir, { recursive: true });
  let lastError: Error | undefined;
  // The port is probed free, then handed to Java: another process may take it in between, so retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const java = spawn(
      'java',
      [
        `-Djava.library.path=${path.join(DYNAMODB_DIR, 'DynamoDBLocal_lib')}`,
        '-jar',
        path.join(DYNAMODB_DIR, 'DynamoDBLocal.jar'),
        '-sharedDb',
        '-disableTelemetry',
        ...storage,
        '-port',
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: false },
    );
    javaProcesses.add(java);
    const remember = (chunk: Buffer) => {
      tail.push(...chunk.toString('utf8').trimEnd().split('\n'));
      tail.splice(0, Math.max(0, tail.length - 40));
    };
    java.stdout?.on('data', remember);
    java.stderr?.on('data', remember);
    try {
      await waitForDynamoDb(java, port, stopping);
      return { process: java, port };
    } catch (error) {
      lastError = error as Error;
      java.kill('SIGKILL');
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(JAVA_MISSING);
    }
  }
  throw new Error(`DynamoDB Local did not start: ${lastError?.message}\n${tail.join('\n')}`);
}

function waitForDynamoDb(java: ChildProcess, port: number, stopping: () => boolean): Promise<void> {
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 60_000;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      client.destroy();
      if (error) reject(error);
      else resolve();
    };
    java.once('error', (error) => finish(error));
    java.once('exit', (code) => finish(new Error(`java exited with ${code} before answering`)));
    const probe = async () => {
      while (!done && !stopping()) {
        try {
          await client.send(new ListTablesCommand({ Limit: 1 }));
          return finish();
        } catch {
          if (Date.now() > deadline) return finish(new Error('no answer to ListTables within 60 s'));
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    void probe();
  });
}

function stopJava(java: ChildProcess): Promise<void> {
  if (java.exitCode !== null || java.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => java.kill('SIGKILL'), 5000);
    java.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    java.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

if (require.main === module) {
  main().catch((error: Error) => {
    send({ type: 'failed', message: error.message });
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
