import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { loadIntelSnapshot } from '../intel/lookup';
import { PropertyConfig } from '../schemas/properties';
import { engineConfigFrom } from '../scoring';
import { Backtest, type BacktestSummary } from './backtest';
import { LogLine } from './logLine';

const USAGE = `usage: clicksieve backtest --input clicks.ndjson --output scores.ndjson
  [--config property-config.json]   thresholds, weights, allowlist to try (PropertyConfig JSON)
  [--horizon-hours 24]              how long after a click its beacons, conversions and later clicks still count
  [--intel shared/intel/snapshot/ipintel.bin]`;

const DEFAULT_INTEL = path.join(__dirname, '..', 'intel', 'snapshot', 'ipintel.bin');

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'backtest') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      config: { type: 'string' },
      'horizon-hours': { type: 'string', default: '24' },
      intel: { type: 'string', default: DEFAULT_INTEL },
    },
    strict: true,
  });
  const horizonHours = Number(values['horizon-hours']);
  if (values.input === undefined || values.output === undefined || !(horizonHours > 0)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = engineConfigFrom(
    values.config === undefined ? undefined : PropertyConfig.parse(JSON.parse(readFileSync(values.config, 'utf8'))),
  );
  const intel = loadIntelSnapshot(readFileSync(values.intel));
  const summary = await runBacktest({
    input: values.input,
    output: values.output,
    backtest: { configFor: () => config, intel, horizonMs: horizonHours * 3_600_000 },
  });
  process.stderr.write(formatSummary(summary));
  return 0;
}

export async function runBacktest(args: {
  input: string;
  output: string;
  backtest: ConstructorParameters<typeof Backtest>[0];
  progress?: boolean;
}): Promise<BacktestSummary> {
  const input = createReadStream(args.input);
  const out = createWriteStream(args.output);
  const showProgress = args.progress ?? process.stderr.isTTY === true;
  const { size } = await stat(args.input);
  const bar = showProgress ? new SingleBar({ format: 'backtest [{bar}] {percentage}% | {clicks} clicks' }) : undefined;
  bar?.start(size, 0, { clicks: 0 });

  let buffered: string[] = [];
  const backtest = new Backtest(args.backtest, (scored) => {
    buffered.push(JSON.stringify(scored));
  });
  const drain = async (): Promise<void> => {
    if (buffered.length === 0) return;
    const chunk = `${buffered.join('\n')}\n`;
    buffered = [];
    // Respect backpressure so a slow disk never makes memory grow with the log.
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };

  let bytes = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    bytes += Buffer.byteLength(raw) + 1;
    if (raw.trim() === '') continue;
    const parsed = parseLine(raw);
    if (parsed === undefined) backtest.skip();
    else backtest.push(parsed);
    if (buffered.length >= 1024) await drain();
    if (bar !== undefined && backtest.summary.lines % 2048 === 0)
      bar.update(bytes, { clicks: backtest.summary.clicks });
  }
  backtest.finish();
  await drain();
  bar?.update(size, { clicks: backtest.summary.clicks });
  bar?.stop();
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return backtest.summary;
}

function parseLine(raw: string): LogLine | undefined {
  try {
    const result = LogLine.safeParse(JSON.parse(raw));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export function formatSummary(s: BacktestSummary): string {
  const pct = (n: number): string => (s.clicks === 0 ? '0.0' : ((100 * n) / s.clicks).toFixed(1));
  const band = (counts: Record<string, number>): string =>
    ['CLEAN', 'SUSPICIOUS', 'FRAUD'].map((l) => `${l} ${counts[l] ?? 0} (${pct(counts[l] ?? 0)}%)`).join(', ');
  const top = Object.entries(s.rules)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([rule, n]) => `  ${rule.padEnd(24)} ${n}`)
    .join('\n');
  return [
    `lines ${s.lines}: ${s.clicks} clicks, ${s.beacons} beacons, ${s.conversions} conversions, ${s.skipped} unreadable, ${s.late} after the horizon`,
    `at click: ${band(s.atClick)}`,
    `final:    ${band(s.final)}`,
    'top rules (final verdicts):',
    top === '' ? '  (none)' : top,
    '',
  ].join('\n');
}
