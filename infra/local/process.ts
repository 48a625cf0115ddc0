import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ENV } from '../../shared/config/env';

/**
 * `npm start` (start.ts) in a process of its own, as a user runs it: the bench's throughput from outside and the
 * test of `npm start` itself. Ready when it has printed its banner; what the banner says is parsed.
 */
export interface LocalStackProcess {
  readonly process: ChildProcess;
  /** The gateway's base URL (`http://127.0.0.1:<port>`). */
  readonly api: string;
  /** DynamoDB Local's endpoint and the main table's name. */
  readonly dynamodb: string;
  readonly tableName: string;
  /** Everything it has printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, as Ctrl-C would; resolves with its exit code once it has stopped. */
  stop(): Promise<number | null>;
}

const STARTED_WITHIN_MS = 120_000;

/** The stack's own settings (ENV), AWS's and clicksieve's: `npm start` sets these itself, as on a fresh shell. */
const SET_BY_THE_STACK = new Set<string>(
  Object.values(ENV).flatMap((name) => (typeof name === 'string' ? [name] : Object.values(name))),
);
const freshShell = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(env).filter(([name]) => !/^(AWS_|CLICKSIEVE_)/.test(name) && !SET_BY_THE_STACK.has(name)),
  );

export async function startLocalStackProcess(options: {
  readonly dataDir: string;
  /** The shell's environment (default process.env), without the stack's own settings (a test's emulators…). */
  readonly env?: NodeJS.ProcessEnv;
  /** Default 0: a free port. */
  readonly port?: number;
}): Promise<LocalStackProcess> {
  const root = path.resolve(__dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', require.resolve('tsx'), path.join(__dirname, 'start.ts')], {
    cwd: root,
    env: {
      ...freshShell(options.env ?? process.env),
      PORT: String(options.port ?? 0),
      CLICKSIEVE_DATA_DIR: options.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  const deadline = Date.now() + STARTED_WITHIN_MS;
  for (;;) {
    const api = /^ {2}API\s+(http:\/\/\S+)/m.exec(output)?.[1];
    const emulators = /DynamoDB Local (http:\/\/\S+) \(tables ([^,]+),/.exec(output);
    if (api && emulators && output.includes('Ctrl-C stops it')) {
      return { process: child, api, dynamodb: emulators[1]!, tableName: emulators[2]!, output: () => output, stop };
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not come up: ${output.slice(-800)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
