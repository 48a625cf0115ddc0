import { type Emulators, startEmulators } from '../../infra/local/emulators';
import { newTokenSigningKey, secretsEnv } from '../../infra/local/secrets';
import { TEST_ADMIN_KEY } from './support/keys';

/** Marks the environment as prepared by this setup; test/integration/env.ts checks it. */
export const INTEGRATION_ENV_MARKER = 'CLICKSIEVE_INTEGRATION_EMULATORS';

declare global {
  var clicksieveEmulators: Emulators | undefined;
}

/**
 * Starts DynamoDB Local and the SQS/S3 emulators once per jest run (in memory) and puts their
 * environment in process.env, which the test workers inherit.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const emulators = await startEmulators({
    inMemory: true,
    onCrash: (error) => process.stderr.write(`\nclicksieve emulators crashed: ${error.message}\n`),
  });
  globalThis.clicksieveEmulators = emulators;
  Object.assign(process.env, emulators.env, secretsEnv(TEST_ADMIN_KEY, newTokenSigningKey()), {
    [INTEGRATION_ENV_MARKER]: String(emulators.pid),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
  });
  if (process.env.CLICKSIEVE_DEBUG) process.stderr.write(`emulators ready in ${Date.now() - started} ms\n`);
}
