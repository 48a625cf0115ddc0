import { randomBytes } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { z } from 'zod';
import { startLocalApi } from '../../../infra/local/gateway';
import type { LambdaHandler } from '../../../infra/local/lambda';
import { startQueuePollers } from '../../../infra/local/queues';
import { ensureQueues, type LocalQueues } from '../../../infra/local/resources';
import { runScheduleNow } from '../../../infra/local/schedules';
import { ENV } from '../../../shared/config/env';
import { type QueueConsumerId, queueNames, type ScheduleId } from '../../../shared/routes';
import type { CreatePropertyBody, PropertyCredentials } from '../../../shared/schemas/properties';
import { TEST_ADMIN_KEY } from './keys';

/**
 * End-to-end test support: the local stack (gateway + SQS pollers) running in the test's own process
 * against the emulators of globalSetup.ts. Each test file gets private queues (so one file's consumers
 * never take another file's messages); the table and bucket are shared, so isolate data by property.
 *
 *   const stack = await startTestStack();            // in beforeAll
 *   const property = await stack.createProperty();   // POST /v1/properties with the admin key
 *   const res = await stack.fetchJson('/v1/click', { method: 'POST', apiKey: property.publicKey, body: {…} });
 *   await stack.waitFor(async () => (await stack.fetchJson(…)).body.score > 50);
 *   await stack.stop();                              // in afterAll
 */
export { TEST_ADMIN_KEY };

export type Credentials = z.output<typeof PropertyCredentials>;

export interface FetchJsonInit {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'OPTIONS' | 'DELETE';
  /** Serialised as JSON (content-type application/json) unless it is already a string. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Sent as `x-api-key`. */
  readonly apiKey?: string;
  /** Sends the test admin key as `x-admin-key`. */
  readonly admin?: boolean;
}

export interface JsonResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, the text when it is not JSON, undefined when empty. */
  readonly body: T;
}

export interface TestStackOptions {
  /** Replace queue consumers of the route table with these functions. */
  readonly consumers?: Partial<Record<QueueConsumerId, LambdaHandler>>;
  /** Run the queue consumers (default true). */
  readonly pollers?: boolean;
  /** Extra environment for the functions (set before any of them loads). */
  readonly env?: Record<string, string>;
}

export interface TestStack {
  /** Base URL, e.g. http://127.0.0.1:41234 (paths start with /v1). */
  readonly url: string;
  readonly adminKey: string;
  /** This file's private queues (URL, ARN, DLQ URL per queue name). */
  readonly queues: LocalQueues;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  // biome-ignore lint/suspicious/noExplicitAny: callers pick the body type they expect.
  fetchJson<T = any>(path: string, init?: FetchJsonInit): Promise<JsonResponse<T>>;
  /** Creates a property through POST /v1/properties; fails the test unless the answer is 201. */
  createProperty(body?: Partial<z.input<typeof CreatePropertyBody>>): Promise<Credentials>;
  /** Polls `probe` until it returns a truthy value (returned) or the time runs out (throws). */
  waitFor<T>(probe: () => T | Promise<T>, timeoutMs?: number, intervalMs?: number): Promise<NonNullable<T>>;
  /** Invokes a scheduled function once, now. */
  runSchedule(id: ScheduleId): Promise<void>;
  stop(): Promise<void>;
}

let fileQueues: Promise<LocalQueues> | undefined;

/** Private queues of this test file, created once (jest keeps module state per test file). */
function privateQueues(): Promise<LocalQueues> {
  fileQueues ??= (async () => {
    const sqs = new SQSClient({});
    try {
      return await ensureQueues(sqs, `-t${randomBytes(4).toString('hex')}`);
    } finally {
      sqs.destroy();
    }
  })();
  return fileQueues;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const queues = await privateQueues();
  const env: Record<string, string> = {
    ...Object.fromEntries(queueNames.map((queue) => [ENV.queueUrl[queue], queues[queue].url])),
    ...options.env,
  };
  const api = await startLocalApi({ port: 0, env });
  const pollers =
    options.pollers === false
      ? undefined
      : startQueuePollers({
          handlers: options.consumers,
          waitTimeSeconds: 1,
          onError: (id, error) => process.stderr.write(`queue consumer ${id} failed: ${error.message}\n`),
        });

  const fetchAt = (path: string, init?: RequestInit) => fetch(`${api.url}${path}`, init);

  const fetchJson = async <T>(path: string, init: FetchJsonInit = {}): Promise<JsonResponse<T>> => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.apiKey) headers['x-api-key'] = init.apiKey;
    if (init.admin) headers['x-admin-key'] = TEST_ADMIN_KEY;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetchAt(path, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
    const text = await response.text();
    let parsed: unknown = text === '' ? undefined : text;
    try {
      if (text !== '') parsed = JSON.parse(text);
    } catch {
      // not JSON (CSV, plain text): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };

  const createProperty = async (body: Partial<z.input<typeof CreatePropertyBody>> = {}): Promise<Credentials> => {
    const response = await fetchJson<Credentials>('/v1/properties', {
      method: 'POST',
      admin: true,
      body: { name: `test property ${randomBytes(3).toString('hex')}`, ...body },
    });
    if (response.status !== 201) {
      throw new Error(`POST /v1/properties answered ${response.status}: ${JSON.stringify(response.body)}`);
    }
    return response.body;
  };

  return {
    url: api.url,
    adminKey: TEST_ADMIN_KEY,
    queues,
    fetch: fetchAt,
    fetchJson,
    createProperty,
    waitFor,
    runSchedule: runScheduleNow,
    stop: async () => {
      await Promise.all([api.stop(), pollers?.stop()]);
    },
  };
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: last error ${lastError.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
