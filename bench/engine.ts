import UserAgent from 'user-agents';
import { Backtest } from '../shared/backtest/backtest';
import type { LogLine } from '../shared/backtest/logLine';
import { bundledIntel } from '../shared/intel/current';
import type { IpIntelLookup } from '../shared/intel/types';
import {
  type ClickInput,
  type CounterValues,
  clickFacts,
  engineConfigFrom,
  SourceTally,
  scoreClick,
  velocityCountersFor,
} from '../shared/scoring';
import { InMemoryVelocityStore } from '../shared/store/velocity/memory';

/**
 * Engine speed on a realistic mix: mostly real browsers on residential addresses, some mobile
 * carriers, a share of cloud/Tor traffic, crawlers and scripts, repeat clicks. A decision is
 * clickFacts + velocityCountersFor + scoreClick (the counter round trip is I/O and excluded).
 */
interface EngineBenchOptions {
  /** Defaults to the bundled snapshot, the one functions fall back to. */
  readonly intel?: IpIntelLookup;
  readonly decisions?: number;
  readonly backtestClicks?: number;
}

const BOT_AGENTS = [
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
];

/** Deterministic pseudo-random numbers so runs compare. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function realisticClicks(n: number): ClickInput[] {
  const rand = rng(42);
  const browsers = Array.from({ length: 500 }, () => new UserAgent().toString());
  const out: ClickInput[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const bot = r < 0.08;
    const ip =
      r < 0.04
        ? `3.5.${Math.floor(rand() * 256)}.10`
        : r < 0.05
          ? `185.220.101.${Math.floor(rand() * 32)}`
          : r < 0.2
            ? `2a02:6b8:${Math.floor(rand() * 65535).toString(16)}::${Math.floor(rand() * 99)}`
            : `${80 + Math.floor(rand() * 100)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
    out.push({
      propertyId: 'prop_bench',
      ip,
      userAgent: bot
        ? (BOT_AGENTS[i % BOT_AGENTS.length] as string)
        : (browsers[Math.floor(rand() * browsers.length)] as string),
      gclid: `Cj0KCQj${Math.floor(rand() * n * 0.98)}`,
      pageUrl: `https://shop.example/landing?gclid=x&campaignid=${1 + Math.floor(rand() * 20)}&network=g&placement=site${Math.floor(rand() * 50)}.example&utm_source=google`,
      visitorId: `vis_${Math.floor(rand() * n * 0.7)}`,
    });
  }
  return out;
}

const quantile = (sorted: Float64Array, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function benchEngine(options: EngineBenchOptions = {}): Promise<string> {
  const intel = options.intel ?? bundledIntel();
  const config = engineConfigFrom({ allowlist: ['10.0.0.0/8', '192.0.2.0/24'] });
  const n = options.decisions ?? 50_000;
  const clicks = realisticClicks(n);
  let now = Date.UTC(2026, 4, 10);
  const store = new InMemoryVelocityStore(() => now);

  // Counters first (outside the timed path), as the live path gets them from DynamoDB.
  const counters: CounterValues[] = [];
  for (const click of clicks) {
    now += 40;
    counters.push(store.incrementSync(velocityCountersFor(clickFacts(click, intel), now)).values);
  }
  // The learned component on: statistics as a property with conversion history would have them (every
  // placement but one converting at ~3 %), so each decision hashes and looks up all of its sources.
  const tally = new SourceTally();
  for (const [i, click] of clicks.entries()) {
    const sources = clickFacts(click, intel).sources;
    const converts = !sources.includes('placement:site7.example') && i % 33 === 0;
    tally.apply([{ sources, clicks: 1, conversions: converts ? 1 : 0 }]);
  }
  const learned = tally.quality();
  // Warm-up so the JIT has settled before measuring.
  for (let i = 0; i < Math.min(n, 20_000); i++)
    scoreClick(config, clickFacts(clicks[i] as ClickInput, intel), counters[i] ?? {}, learned);

  const micros = new Float64Array(n);
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const facts = clickFacts(clicks[i] as ClickInput, intel);
    const specs = velocityCountersFor(facts, now);
    const verdict = scoreClick(config, facts, counters[i] ?? {}, learned);
    micros[i] = Number(process.hrtime.bigint() - t0) / 1000;
    sink += verdict.score + specs.length;
  }
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  micros.sort();

  const backtestClicks = options.backtestClicks ?? 50_000;
  const lines: LogLine[] = clicks.slice(0, Math.min(backtestClicks, clicks.length)).map((c, i) => ({
    type: 'click',
    timestamp: new Date(Date.UTC(2026, 4, 10) + i * 500).toISOString(),
    property: c.propertyId,
    ip: c.ip,
    user_agent: c.userAgent,
    gclid: c.gclid,
    page_url: c.pageUrl,
    visitor_id: c.visitorId,
  }));
  let emitted = 0;
  const backtest = new Backtest({ configFor: () => config, intel }, () => {
    emitted++;
  });
  const btStart = process.hrtime.bigint();
  for (const line of lines) backtest.push(line);
  backtest.finish();
  const btSeconds = Number(process.hrtime.bigint() - btStart) / 1e9;

  return [
    `engine (${intel.version} intel, ${n} decisions, learned component on, checksum ${sink}):`,
    `  decisions/s        ${Math.round(n / totalSeconds).toLocaleString('en-US')}`,
    `  µs per decision    median ${quantile(micros, 0.5).toFixed(2)}  p99 ${quantile(micros, 0.99).toFixed(2)}`,
    `backtest (in-memory counters, parsed lines, ${emitted} clicks):`,
    `  clicks/s           ${Math.round(emitted / btSeconds).toLocaleString('en-US')}`,
  ].join('\n');
}

if (require.main === module) {
  benchEngine().then((report) => process.stdout.write(`${report}\n`));
}
