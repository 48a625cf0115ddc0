import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../shared/config/env';
import { queueNames } from '../../shared/routes';
import { CONFIG_ENV, type EmulatorConfig, type SavedMessage, type ToChild, type ToParent } from './emulator-process';
import { dlqName, ensureResources, type LocalResources, localQueueName } from './resources';

/**
 * Starts the local AWS stand-ins (DynamoDB Local, fauxqs SQS, s3rver S3) in one child process and
 * creates the stack's table, queues and bucket on them. Used by `npm start` and the jest global setup.
 */
export interface Emulators {
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly s3: string };
  /** Everything a function needs to run against the emulators (endpoints, names, credentials, region). */
  readonly env: Record<string, string>;
  readonly resources: LocalResources;
  /** The emulator process's pid (it owns the Java process). */
  readonly pid: number;
  stop(): Promise<void>;
}

interface EmulatorOptions {
  /** Keep DynamoDB data, S3 objects and unconsumed SQS messages under this directory. */
  readonly dataDir?: string;
  /** Forget everything on stop (tests). Default: true without dataDir. */
  readonly inMemory?: boolean;
  /** Called when the emulator process dies without being asked to stop. */
  readonly onCrash?: (error: Error) => void;
}

/** Static credentials s3rver requires; DynamoDB Local and fauxqs accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

const READY_TIMEOUT_MS = 90_000;
const QUEUE_STATE_FILE = 'sqs-messages.json';

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const persistent = options.dataDir !== undefined && options.inMemory !== true;
  const dataDir = options.dataDir ? path.resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const scratch = persistent ? undefined : mkdtempSync(path.join(tmpdir(), 'clicksieve-s3-'));
  const queueStateFile = persistent ? path.join(dataDir!, QUEUE_STATE_FILE) : undefined;
  const config: EmulatorConfig = {
    dynamodbDir: persistent ? path.join(dataDir!, 'dynamodb') : undefined,
    s3Dir: persistent ? path.join(dataDir!, 's3') : scratch!,
    queueStateFile,
    persistQueues: queueNames.flatMap((queue) => [localQueueName(queue), dlqName(localQueueName(queue))]),
  };

  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(require.resolve('tsx')).href, path.join(__dirname, 'emulator-process.ts')],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
      detached: false,
    },
  );
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    stderr.splice(0, Math.max(0, stderr.length - 50));
  });

  let stopping = false;
  const cleanScratch = () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  };
  let ports: { dynamodb: number; sqs: number; s3: number };
  try {
    ports = await waitForReady(child, stderr);
  } catch (error) {
    child.kill('SIGKILL');
    cleanScratch();
    throw error;
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    cleanScratch();
    options.onCrash?.(new Error(`the emulator process exited (${signal ?? code}): ${stderr.join('').trim()}`));
  });

  const endpoints = {
    dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
    sqs: `http://127.0.0.1:${ports.sqs}`,
    s3: `http://127.0.0.1:${ports.s3}`,
  };
  const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: endpoints.dynamodb });
  const sqs = new SQSClient({ ...clientConfig, endpoint: endpoints.sqs });
  const s3 = new S3Client({
    ...clientConfig,
    endpoint: endpoints.s3,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let resources: LocalResources;
  try {
    resources = await ensureResources({ dynamo, sqs, s3 });
    if (queueStateFile) await resendSavedMessages(sqs, resources, queueStateFile);
  } catch (error) {
    stopping = true;
    child.kill('SIGTERM');
    cleanScratch();
    throw error;
  } finally {
    dynamo.destroy();
    s3.destroy();
  }
  const env = localEnv(endpoints, resources);
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    sqs.destroy();
    await stopChild(child);
    cleanScratch();
  };
  return { endpoints, env, resources, pid: child.pid!, stop };
}

/** The environment of every function on the local stack (names from shared/config/env.ts). */
function localEnv(endpoints: Emulators['endpoints'], resources: LocalResources): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    [ENV.s3ForcePathStyle]: 'true',
    [ENV.tableName]: resources.tableName,
    [ENV.countersTableName]: resources.countersTableName,
    [ENV.bucketName]: resources.bucketName,
    ...Object.fromEntries(queueNames.map((queue) => [ENV.queueUrl[queue], resources.queues[queue].url])),
  };
}

function waitForReady(child: ChildProcess, stderr: string[]): Promise<{ dynamodb: number; sqs: number; s3: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the emulators did not start within 90 s')), READY_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      reject(error);
    };
    const onMessage = (message: ToParent) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message.ports);
      } else if (message.type === 'failed') {
        fail(new Error(message.message));
      }
    };
    child.on('message', onMessage);
    child.once('error', fail);
    child.once('exit', (code) =>
      fail(new Error(`the emulator process exited (${code}) while starting: ${stderr.join('').trim()}`)),
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
    else child.kill('SIGTERM');
  });
}

/** Messages that were not consumed before the last stop go back on their queues. */
async function resendSavedMessages(sqs: SQSClient, resources: LocalResources, file: string): Promise<void> {
  if (!existsSync(file)) return;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, SavedMessage[]>;
  const urls = new Map<string, string>();
  for (const queue of Object.values(resources.queues)) {
    urls.set(queue.name, queue.url);
    urls.set(dlqName(queue.name), queue.dlqUrl);
  }
  for (const [name, messages] of Object.entries(saved)) {
    const url = urls.get(name);
    if (!url) continue;
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map((message, j) => ({
            Id: String(j),
            MessageBody: message.body,
            MessageAttributes: message.messageAttributes,
          })),
        }),
      );
    }
  }
  rmSync(file);
}
