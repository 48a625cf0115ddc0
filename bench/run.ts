import './environment';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startEmulators } from '../infra/local/emulators';
import { allowRequireOfEsmOnlyPackages } from '../infra/local/esmOnlyPackages';
import { benchEngine } from './engine';
import { measureFunctions } from './functions';
import { measureIntel } from './intel';
import { benchFromOutside, formatOutside } from './outside';

/**
 * `npm run bench`: prints the figures issues 3–5 ask for. Pure parts run in this process; the storage
 * parts run against DynamoDB Local and the S3 emulator, so their latencies are the emulators' (see
 * ../shared/STACK.md), while call counts and capacity units are what AWS would bill.
 */
async function main(): Promise<void> {
  // The environment before the in-memory emulators' endpoints are put in it: `npm start` gets this one.
  const startEnv = { ...process.env };
  const section = (title: string) => process.stdout.write(`\n== ${title}\n`);

  section('IP intelligence');
  const intel = await measureIntel();
  process.stdout.write(
    [
      `snapshot           ${(intel.snapshotBytes / 1024 / 1024).toFixed(2)} MiB, cold load ${intel.loadMs} ms`,
      `IPv4 lookup        ${intel.ipv4.nsPerLookup} ns (${intel.ipv4.lookupsPerSecond.toLocaleString('en-US')}/s)`,
      `IPv6 lookup        ${intel.ipv6.nsPerLookup} ns (${intel.ipv6.lookupsPerSecond.toLocaleString('en-US')}/s)`,
    ].join('\n') + '\n',
  );

  section('Scoring engine (pure, no I/O)');
  process.stdout.write(`${await benchEngine()}\n`);

  const scale = Number(process.env.BENCH_BACKTEST_CLICKS ?? 1_000_000);
  section(`Backtest at scale: ${scale.toLocaleString('en-US')} clicks of a labelled log, own process`);
  try {
    process.stdout.write(`${formatBacktestScale(backtestScale(scale))}\n`);
  } catch (error) {
    // A failed run (a crash, a regression past the memory bound) is reported; the storage figures still follow.
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    process.stdout.write(`backtest at scale FAILED (${reason.slice(0, 160)})\n`);
  }

  const clicks = Number(process.env.BENCH_EXPORT_CLICKS ?? 100_000);
  section('Storage paths (DynamoDB Local + S3 emulator; starting them…)');
  const emulators = await startEmulators({ inMemory: true });
  try {
    // The SDK clients read their endpoints at module load: set the environment before loading these.
    Object.assign(process.env, emulators.env);
    // The handlers the click path runs need @middy/core (ESM only), as under `npm start`.
    allowRequireOfEsmOnlyPackages();
    const { benchClickPath, benchThroughput, formatClickPath, formatThroughput } =
      require('./click-path') as typeof import('./click-path');
    const { benchReporting, formatReportingFigures } = require('./reporting') as typeof import('./reporting');
    const { tableName, bucketName } = emulators.resources;

    section('Click path: the deployed handlers against DynamoDB Local (calls and capacity units are what AWS bills)');
    process.stdout.write(`${formatClickPath(await benchClickPath())}\n`);

    section('Local throughput: 32 concurrent secret-key clicks against DynamoDB Local');
    process.stdout.write(`${formatThroughput(await benchThroughput({ tableName, emulatorPid: emulators.pid }))}\n`);

    // BENCH_ONLY=click: the click-path figures and the functions, without the (long) reporting run.
    if (process.env.BENCH_ONLY !== 'click') {
      section(`Reporting: export of ${clicks.toLocaleString('en-US')} clicks, 90-day stats`);
      process.stdout.write(
        `${formatReportingFigures(await benchReporting({ tableName, bucket: bucketName, clicks }))}\n`,
      );
    }
  } finally {
    await emulators.stop();
  }

  section('Local throughput from outside: `npm start` (DynamoDB Local on disk), 32 concurrent clicks over HTTP');
  try {
    process.stdout.write(`${formatOutside(await benchFromOutside(startEnv))}\n`);
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    process.stdout.write(`throughput from outside FAILED (${reason.slice(0, 300)})\n`);
  }

  section('Functions (esbuild bundle as deployed; cold start = module load in a fresh node process, median of 7)');
  const functions = await measureFunctions();
  const width = Math.max(...functions.map((f) => f.name.length));
  for (const f of functions) {
    const beside =
      f.besideKiB === undefined
        ? ''
        : `  (+ google-ads-api beside it, ${f.besideKiB} KiB, loaded when an account is reached)`;
    process.stdout.write(
      `${f.name.padEnd(width)}  ${String(f.bundleKiB).padStart(5)} KiB  ${f.coldStartMs} ms${beside}\n`,
    );
  }
  const click = functions.find((f) => f.name === 'click');
  if (click) {
    process.stdout.write(
      `click function: ${click.bundleKiB} KiB (target <= 600), module load ${click.coldStartMs} ms (target <= 100; its 7 loads ${click.coldStartRangeMs.join('–')} ms)\n`,
    );
  }
}

interface BacktestScale {
  clicks: number;
  seconds: number;
  clicksPerSecond: number;
  cpuSeconds: number;
  clicksPerCpuSecond: number;
  peakRssMiB: number;
  auc?: number;
}

/**
 * bench/backtest-scale.ts in a fresh process: its peak RSS is the backtest's alone. No heap cap: the figure
 * is what `npx clicksieve backtest` uses as shipped.
 */
function backtestScale(clicks: number): BacktestScale {
  const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const out = execFileSync(tsx, [path.join(__dirname, 'backtest-scale.ts')], {
    env: { ...process.env, BACKTEST_CLICKS: String(clicks) },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as BacktestScale;
}

function formatBacktestScale(r: BacktestScale): string {
  return [
    `clicks             ${r.clicks.toLocaleString('en-US')} in ${r.seconds} s`,
    `clicks/s           ${r.clicksPerSecond.toLocaleString('en-US')} (wall), ${r.clicksPerCpuSecond.toLocaleString('en-US')} per CPU second (${r.cpuSeconds} s)`,
    `peak memory        ${r.peakRssMiB} MiB resident`,
    `AUC (never converts, at-click score)  ${r.auc?.toFixed(3) ?? '–'}`,
  ].join('\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
