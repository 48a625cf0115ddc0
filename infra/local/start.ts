import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENV } from '../../shared/config/env';
import { type Emulators, startEmulators } from './emulators';
import { allowRequireOfEsmOnlyPackages } from './esmOnlyPackages';
import type { LocalApi } from './gateway';
import { type Poller, startQueuePollers } from './queues';
import { type Schedules, startSchedules } from './schedules';
import { newAdminKey, newTokenSigningKey, secretsEnv } from './secrets';

/**
 * `npm start`: the whole service on this machine (../shared/API.md "Local run"). DynamoDB Local and the
 * SQS/S3 emulators keep their state in CLICKSIEVE_DATA_DIR; the gateway serves the route table on
 * 127.0.0.1:PORT; queue consumers and schedules run as they do on AWS. SIGINT/SIGTERM stop everything.
 */
interface DemoProperty {
  id: string;
  publicKey: string;
  secretKey: string;
  webhookSecret: string;
  /** Absent in files written before the read-only key existed: it is then rotated in once. */
  readonlyKey?: string;
}

const started = Date.now();
// The SDK warns that it will want Node 22 from 2027; Node 20 runs it fine today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
allowRequireOfEsmOnlyPackages();
const port = Number(process.env.PORT ?? 3000);
const dataDir = path.resolve(process.env.CLICKSIEVE_DATA_DIR || '.local');
const version = (require('../../package.json') as { version: string }).version;

let emulators: Emulators | undefined;
let api: LocalApi | undefined;
let pollers: Poller | undefined;
let timers: Schedules | undefined;
let stopping = false;
let emulatorsReadyMs = 0;

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  mkdirSync(dataDir, { recursive: true });
  const givenAdminKey = process.env.CLICKSIEVE_ADMIN_KEY;
  const adminKey = givenAdminKey || persistedSecret('admin-key', newAdminKey);
  const tokenSigningKey = persistedSecret('token-signing-key', newTokenSigningKey);

  emulators = await startEmulators({
    dataDir,
    onCrash: (error) => void shutdown(1, `the emulators stopped unexpectedly: ${error.message}`),
  });
  emulatorsReadyMs = Date.now() - started;
  const env = {
    ...emulators.env,
    ...secretsEnv(adminKey, tokenSigningKey),
    [ENV.version]: version,
    // No network to Google here: the Google Ads calls go to the recorded transport (README, "Google Ads").
    [ENV.googleAdsTransport]: 'recorded',
  };
  // Loaded only now: the gateway and the functions require @middy/core, which needs the resolver above.
  const { startLocalApi } = require('./gateway') as typeof import('./gateway');
  api = await startLocalApi({
    port,
    env,
    dataDir,
    onAccess: process.env.CLICKSIEVE_LOG_REQUESTS === '1' ? (line) => console.log(line) : undefined,
  });
  pollers = startQueuePollers({
    onError: (id, error) => console.error(`queue consumer ${id}: ${error.message}`),
  });
  timers = startSchedules({
    onRun: (id, error) => {
      if (error) console.error(`schedule ${id} failed: ${error.message}`);
    },
  });
  const demo = await ensureDemoProperty(api.url, adminKey);
  printBanner(
    api.url,
    adminKey,
    givenAdminKey ? 'from CLICKSIEVE_ADMIN_KEY' : `saved in ${path.join(dataDir, 'admin-key')}`,
    demo,
  );
}

/** A secret generated once and kept in the data directory, so it is the same after a restart. */
function persistedSecret(name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value) return value;
  }
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** Reuses demo-property.json while its secret key still authenticates; otherwise creates a property. */
async function ensureDemoProperty(url: string, adminKey: string): Promise<DemoProperty | string> {
  const file = path.join(dataDir, 'demo-property.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoProperty;
    const check = await fetch(`${url}/v1/properties/${encodeURIComponent(saved.id)}/config`, {
      headers: { 'x-api-key': saved.secretKey },
    });
    await check.arrayBuffer();
    if (check.status === 200) return saved.readonlyKey ? saved : withReadonlyKey(url, saved, file);
    if (![401, 403, 404].includes(check.status)) {
      return `could not check the demo property in ${file} (GET /v1/properties/{id}/config answered ${check.status})`;
    }
  }
  const created = await fetch(`${url}/v1/properties`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
    body: JSON.stringify({ name: 'Demo site', domain: 'demo.example' }),
  });
  const body = (await created.json().catch(() => undefined)) as (DemoProperty & { code?: string }) | undefined;
  if (created.status !== 201 || !body) {
    return `no demo property: POST /v1/properties answered ${created.status}${body?.code ? ` ${body.code}` : ''}`;
  }
  const demo = {
    id: body.id,
    publicKey: body.publicKey,
    secretKey: body.secretKey,
    webhookSecret: body.webhookSecret,
    readonlyKey: body.readonlyKey,
  };
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  await seedDemoTraffic(url, demo);
  return demo;
}

async function withReadonlyKey(url: string, saved: DemoProperty, file: string): Promise<DemoProperty> {
  const rotated = await fetch(`${url}/v1/properties/${encodeURIComponent(saved.id)}/rotate-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': saved.secretKey },
    body: JSON.stringify({ which: 'readonly' }),
  });
  const body = (await rotated.json().catch(() => undefined)) as { readonlyKey?: string } | undefined;
  if (rotated.status !== 200 || !body?.readonlyKey) return saved;
  const demo = { ...saved, readonlyKey: body.readonlyKey };
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return demo;
}

const DEMO_BROWSER =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const DEMO_HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';

/**
 * A new demo property gets some traffic so the dashboard has something to show: ordinary clicks from
 * home addresses and headless clicks from a datacenter address (body `ip`, honoured with the secret key).
 */
async function seedDemoTraffic(url: string, demo: DemoProperty): Promise<void> {
  const click = (ip: string, userAgent: string, gclid: string, query: string) =>
    fetch(`${url}/v1/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': demo.secretKey },
      body: JSON.stringify({ ip, user_agent: userAgent, gclid, page_url: `https://demo.example/landing?${query}` }),
    }).then((res) => res.arrayBuffer());
  for (let i = 0; i < 24; i++) {
    await click(
      `81.2.69.${20 + i}`,
      DEMO_BROWSER,
      `Cj0KCQjDemoClean${i}`,
      'campaignid=1001&network=g&keyword=running+shoes',
    );
  }
  for (let i = 0; i < 6; i++) {
    await click(
      '3.5.140.2',
      DEMO_HEADLESS,
      `Cj0KCQjDemoBot${i}`,
      'campaignid=1002&network=d&placement=cheap-games.example',
    );
  }
}

function printBanner(url: string, adminKey: string, adminKeySource: string, demo: DemoProperty | string): void {
  const lines = [
    '',
    `clicksieve ${version} — local stack ready in ${seconds(Date.now() - started)} (emulators ${seconds(emulatorsReadyMs)})`,
    `  API          ${url}`,
    `  admin key    ${adminKey}   (${adminKeySource}; send as x-admin-key)`,
    `  state        ${dataDir}`,
  ];
  if (emulators) {
    const { endpoints, resources } = emulators;
    lines.push(
      `  emulators    DynamoDB Local ${endpoints.dynamodb} (tables ${resources.tableName}, ${resources.countersTableName}), ` +
        `SQS ${endpoints.sqs}, S3 ${endpoints.s3} (any credentials but S3's: S3RVER/S3RVER)`,
    );
  }
  if (typeof demo === 'string') {
    lines.push(`  demo         ${demo}`, '', 'Try:', `  curl -s ${url}/v1/health`);
  } else {
    const click = JSON.stringify({
      tracking_key: demo.publicKey,
      gclid: 'Cj0KCQjDemo',
      page_url: 'https://demo.example/landing?gclid=Cj0KCQjDemo&campaignid=123',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    });
    const event = JSON.stringify({ type: 'page_view', url: 'https://demo.example/landing' });
    lines.push(
      `  demo property ${demo.id}   (${path.join(dataDir, 'demo-property.json')})`,
      `    public key     ${demo.publicKey}`,
      `    secret key     ${demo.secretKey}`,
      `    webhook secret ${demo.webhookSecret}`,
      `    read-only key  ${demo.readonlyKey ?? '(not available)'}`,
      '',
      `  Dashboard    ${url}/dashboard/   (sign in with the read-only key above; the secret key may change settings)`,
      '',
      'Try:',
      `  curl -s ${url}/v1/health`,
      `  curl -s -X POST ${url}/v1/click -H 'content-type: application/json' -d '${click}'`,
      `  curl -s -X POST ${url}/v1/events -H 'content-type: application/json' -H 'x-api-key: ${demo.publicKey}' -d '${event}'`,
      `  curl -s "${url}/v1/decision?visitorId=<visitorId from the events answer>" -H 'x-api-key: ${demo.secretKey}'`,
    );
  }
  lines.push('', 'Ctrl-C stops it (state is kept).', '');
  console.log(lines.join('\n'));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function shutdown(code: number, reason?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (reason) console.error(reason);
  const errors: unknown[] = [];
  const step = async (run: (() => Promise<void>) | undefined) => {
    try {
      await run?.();
    } catch (error) {
      errors.push(error);
    }
  };
  await step(timers?.stop);
  await step(pollers?.stop);
  await step(api?.stop);
  // Stopping the emulators writes unconsumed SQS messages to the data directory for the next start.
  await step(emulators?.stop);
  for (const error of errors) console.error(`while stopping: ${(error as Error).message}`);
  process.exit(errors.length > 0 && code === 0 ? 1 : code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.log(`\n${signal}: stopping clicksieve…`);
    void shutdown(0);
  });
}

main().catch((error: Error) => void shutdown(1, `clicksieve did not start: ${error.message}`));
