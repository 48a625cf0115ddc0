import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';

/** Repository root: handler paths in shared/routes.ts are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

// biome-ignore lint/suspicious/noExplicitAny: a Lambda handler's event and result types vary by trigger.
export type LambdaHandler = (event: any, context: Context) => Promise<any>;

/** Thrown when a handler file of the route table does not exist yet (the route answers 501). */
export class HandlerMissingError extends Error {
  constructor(readonly entry: string) {
    super(`${entry} does not exist yet`);
    this.name = 'HandlerMissingError';
  }
}

const loaded = new Map<string, LambdaHandler>();

/**
 * Loads a function's `handler` export once, as a warm Lambda container would keep it. Functions read
 * their configuration from process.env at load time: set it before the first call.
 */
export function loadHandler(entry: string): LambdaHandler {
  const cached = loaded.get(entry);
  if (cached) return cached;
  const file = path.join(REPO_ROOT, entry);
  if (!existsSync(file)) throw new HandlerMissingError(entry);
  const handler = (require(file) as { handler?: unknown }).handler;
  if (typeof handler !== 'function') throw new Error(`${entry} does not export a handler function`);
  loaded.set(entry, handler as LambdaHandler);
  return handler as LambdaHandler;
}

export function handlerExists(entry: string): boolean {
  return loaded.has(entry) || existsSync(path.join(REPO_ROOT, entry));
}

/** A Lambda-like context: the fields handlers, middy and Powertools read. */
function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const name = `clicksieve-local-${functionName}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Invokes a handler with a time limit like Lambda's; a handler that overruns rejects. */
export async function invoke<R>(
  handler: LambdaHandler,
  event: unknown,
  functionName: string,
  timeoutMs: number,
): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${functionName} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return (await Promise.race([handler(event, lambdaContext(functionName, timeoutMs)), timeout])) as R;
  } finally {
    clearTimeout(timer);
  }
}
