import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { deriveSigningKey } from '../shared/auth/signingKey';
import { Backtest, type BacktestSummary, SKIPPED_LINES_KEPT, type TokenSummary } from '../shared/backtest/backtest';
import { LogLine } from '../shared/backtest/logLine';
import type { BandFigures, Separation } from '../shared/backtest/separation';
import { loadIntelSnapshot } from '../shared/intel/lookup';
import { PropertyConfig, type PropertyConfigInput } from '../shared/schemas/properties';
import { engineConfigFrom } from '../shared/scoring';

const USAGE = `usage: clicksieve backtest --input log.ndjson --output scores.ndjson [options]

Replays a log of clicks, beacons and conversions (NDJSON, one event per line, in time order; the
fields of API.md "Offline backtest") through the scoring engine in event time, with in-memory
counters, and writes one line per click, in input order:
  { click_id, score_at_click, label_at_click, score, label, reasons }
score_at_click/label_at_click: what POST /v1/click would have answered at that moment.
score/label/reasons: the verdict once the click's beacons, conversions and later clicks are known.

options:
  --input <file>            the log to replay (required)
  --output <file>           where the scores are written (required; replaced)
  --config <file>           property configuration to try on every property (PropertyConfig JSON:
                            thresholds, rule weights, allowlist, monitor mode, retentionDays: how
                            long a gclid is remembered from its first click); default: the defaults
  --horizon-hours <n>       how long after a click its beacons, conversions and later clicks still
                            count (default 24); memory holds the clicks of this much event time
  --token-secret <secret>   the deployment's click-token signing master secret: TOKEN_SIGNING_KEY (hex)
                            locally, the TokenSigningKey secret's value on AWS. Prefer the environment
                            variable CLICKSIEVE_TOKEN_SECRET: arguments show in ps and shell history.
                            Without it, click tokens are counted but not verified, so
                            click_token_invalid / _expired / _replay cannot fire.
  --intel <file>            IP intelligence snapshot (default: the bundled one)
  -h, --help                this text

A line that is not JSON or not a valid click, beacon or conversion is skipped: the summary counts
them and lists the first ${SKIPPED_LINES_KEPT} with their line numbers. A progress bar is drawn on stderr when stderr
is a terminal; the summary (lines, counts per band at click and final, top rules, the AUC of the at-click score for
"never converts", the conversion rate per band and score range, and the sources the learned component
flagged) goes to stderr.
Exit status: 0 done, 1 error or no readable line, 2 usage error.`;

const DEFAULT_INTEL = path.join(__dirname, '..', 'shared', 'intel', 'snapshot', 'ipintel.bin');
const TOKEN_SECRET_ENV = 'CLICKSIEVE_TOKEN_SECRET';

class UsageError extends Error {}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (command !== 'backtest') throw new UsageError(`unknown command '${command}'`);
    return await backtestCommand(rest, env);
  } catch (error) {
    if (!(error instanceof UsageError) && !isParseArgsError(error)) throw error;
    process.stderr.write(`clicksieve: ${(error as Error).message}\n(clicksieve backtest --help lists the options)\n`);
    return 2;
  }
}

async function backtestCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      config: { type: 'string' },
      'horizon-hours': { type: 'string', default: '24' },
      'token-secret': { type: 'string' },
      intel: { type: 'string', default: DEFAULT_INTEL },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { input, output } = values;
  if (input === undefined || output === undefined) throw new UsageError('--input and --output are required');
  const horizonHours = Number(values['horizon-hours']);
  if (!(horizonHours > 0)) throw new UsageError('--horizon-hours must be a positive number');
  if (path.resolve(input) === path.resolve(output)) throw new UsageError('--output must not be the input file');
  const secret = values['token-secret'] ?? (env[TOKEN_SECRET_ENV] || undefined);
  const tokenKeyFor = secret === undefined ? undefined : signingKeysFrom(tokenMasterFrom(secret));

  const stored = values.config === undefined ? undefined : readConfig(values.config);
  const config = engineConfigFrom(stored);
  const intel = loadIntelSnapshot(readFileSync(values.intel));
  const summary = await runBacktest({
    input,
    output,
    backtest: {
      configFor: () => config,
      intel,
      horizonMs: horizonHours * 3_600_000,
      tokenKeyFor,
      retentionDays: stored?.retentionDays,
    },
  });
  process.stderr.write(formatSummary(summary));
  if (summary.lines > 0 && summary.skipped === summary.lines) {
    process.stderr.write(`clicksieve: no line of ${input} could be read\n`);
    return 1;
  }
  return 0;
}

function readConfig(file: string): PropertyConfigInput {
  const parsed = PropertyConfig.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new UsageError(`--config ${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

// By code, not class: node:util throws TypeErrors, and jest runs code in another realm.
const isParseArgsError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

/**
 * The master as the service reads it (shared/auth/signingKey): hex digits are the bytes they encode
 * (TOKEN_SIGNING_KEY, or a hex secret), any other secret string its UTF-8 bytes (the generated
 * Secrets Manager value).
 */
export function tokenMasterFrom(secret: string): Buffer {
  const text = secret.trim();
  if (/^(?:[0-9a-f]{2}){16,}$/i.test(text)) return Buffer.from(text, 'hex');
  if (text.length >= 32) return Buffer.from(text, 'utf8');
  throw new UsageError('--token-secret must be at least 32 hex digits, or the signing secret string as stored');
}

/** Per-property keys derived exactly as the service does, once per property. */
function signingKeysFrom(master: Buffer): (propertyId: string) => Buffer {
  const keys = new Map<string, Buffer>();
  return (propertyId) => {
    let key = keys.get(propertyId);
    if (key === undefined) {
      key = deriveSigningKey(master, propertyId);
      keys.set(propertyId, key);
    }
    return key;
  };
}

export async function runBacktest(args: {
  input: string;
  output: string;
  backtest: ConstructorParameters<typeof Backtest>[0];
  progress?: boolean;
}): Promise<BacktestSummary> {
  // Stat first: a missing input must fail before the output file is created or truncated.
  const { size } = await stat(args.input);
  const input = createReadStream(args.input);
  const out = createWriteStream(args.output);
  const showProgress = args.progress ?? process.stderr.isTTY === true;
  const bar = showProgress
    ? new SingleBar({ format: 'backtest [{bar}] {percentage}% | {clicks} clicks', stream: process.stderr })
    : undefined;
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
  let lineNumber = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    bytes += Buffer.byteLength(raw) + 1;
    if (raw.trim() === '') continue;
    const parsed = parseLine(raw);
    if (typeof parsed === 'string') backtest.skip(lineNumber, parsed);
    else backtest.push(parsed, lineNumber);
    if (buffered.length >= 1024) await drain();
    if (bar !== undefined && lineNumber % 2048 === 0) bar.update(bytes, { clicks: backtest.summary.clicks });
  }
  backtest.finish();
  await drain();
  bar?.update(size, { clicks: backtest.summary.clicks });
  bar?.stop();
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return backtest.summary;
}

/** The line, or why it cannot be read. */
function parseLine(raw: string): LogLine | string {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  const result = LogLine.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  return issue === undefined ? 'invalid' : `${issue.path.join('.') || 'line'}: ${issue.message}`;
}

export function formatSummary(s: BacktestSummary): string {
  const pct = (n: number): string => (s.clicks === 0 ? '0.0' : ((100 * n) / s.clicks).toFixed(1));
  const band = (counts: Record<string, number>): string =>
    ['CLEAN', 'SUSPICIOUS', 'FRAUD'].map((l) => `${l} ${counts[l] ?? 0} (${pct(counts[l] ?? 0)}%)`).join(', ');
  const top = Object.entries(s.rules)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([rule, n]) => `  ${rule.padEnd(24)} ${String(n).padStart(8)} (${pct(n)}%)`)
    .join('\n');
  const skipped = s.skippedLines.map((l) => `  line ${l.line}: ${l.reason}`);
  if (s.skipped > s.skippedLines.length) skipped.push(`  … and ${s.skipped - s.skippedLines.length} more`);
  return [
    `lines ${s.lines}: ${s.clicks} clicks, ${s.beacons} beacons, ${s.conversions} conversions, ${s.skipped} skipped`,
    ...(s.skipped > 0 ? ['skipped lines (not read):', ...skipped] : []),
    ...(s.unmatched > 0
      ? [`${s.unmatched} beacons/conversions matched no click (unknown, already converted, or past the horizon)`]
      : []),
    ...formatTokens(s.tokens),
    `at click: ${band(s.atClick)}`,
    `final:    ${band(s.final)}`,
    'top rules (final verdicts, share of clicks):',
    top === '' ? '  (none)' : top,
    ...formatSeparation(s.separation),
    '',
  ].join('\n');
}

/** The evidence before enforcing: AUC of the at-click score, conversion rate per band, flagged sources. */
function formatSeparation(sep: Separation): string[] {
  const rate = (b: BandFigures): string =>
    `${String(b.clicks).padStart(9)} clicks, ${String(b.conversions).padStart(7)} conversions (${
      b.clicks === 0 ? '–' : `${((100 * b.conversions) / b.clicks).toFixed(2)} %`
    })`;
  const auc = sep.auc();
  const flagged = [...sep.flagged.entries()].sort((a, b) => b[1].clicks - a[1].clicks).slice(0, 20);
  return [
    auc === undefined
      ? 'AUC (at-click score, never converts): – (needs converting and non-converting clicks)'
      : `AUC (at-click score, never converts): ${auc.toFixed(3)}`,
    'conversion rate per band (at click):',
    ...(['CLEAN', 'SUSPICIOUS', 'FRAUD'] as const).map((l) => `  ${l.padEnd(11)} ${rate(sep.bands[l])}`),
    'conversion rate per score range (at click):',
    ...sep
      .deciles()
      .map((d, i) => ({ d, i }))
      .filter(({ d }) => d.clicks > 0)
      .map(({ d, i }) => `  ${`${i * 10}–${i === 9 ? 100 : i * 10 + 9}`.padEnd(11)} ${rate(d)}`),
    `sources the learned component flagged (≥ SUSPICIOUS on its own): ${sep.flagged.size}${
      sep.flaggedDropped > 0 ? ` (+${sep.flaggedDropped} clicks of sources beyond the first ${sep.flagged.size})` : ''
    }`,
    ...flagged.map(([, f]) => `  ${f.reason} — ${f.clicks} clicks flagged, ${f.conversions} converted`),
  ];
}

function formatTokens(t: TokenSummary): string[] {
  if (t.seen === 0) return [];
  if (!t.verified) {
    return [
      `click tokens: ${t.seen} seen, not verified (no --token-secret / ${TOKEN_SECRET_ENV}): click_token_* rules did not fire`,
    ];
  }
  const lines = [
    `click tokens: ${t.seen} seen, ${t.invalid} invalid, ${t.expired} expired at their click, ${t.replayed} replayed`,
  ];
  if (t.badSignature === t.seen)
    lines.push('  every token failed its signature check: is the token secret the deployment’s?');
  return lines;
}
