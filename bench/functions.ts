import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { carriesIntelSnapshot } from '../infra/constructs/bundling';
import {
  type QueueConsumerDef,
  queueConsumers,
  type RouteDef,
  routes,
  type ScheduleDef,
  schedules,
} from '../shared/routes';
import { bundleFunction } from './bundle';
import { rounded } from './round';

interface FunctionFigure {
  readonly name: string;
  readonly bundleKiB: number;
  /** google-ads-api's module, bundled beside the function and loaded only when an account is reached. */
  readonly besideKiB?: number;
  /** Median of fresh `node` processes loading the bundle (module init only, no handler call). */
  readonly coldStartMs: number;
  /** The fastest and the slowest of those loads. */
  readonly coldStartRangeMs: readonly [number, number];
}

/**
 * Bundles every function as the CDK stack does (esbuild, CJS, minified, SDK included, the same aliases) and
 * times its cold load.
 */
export async function measureFunctions(runs = 7): Promise<FunctionFigure[]> {
  // As the stack decides it (infra/constructs/api.ts): a function holding the Google Ads secret reaches Google Ads.
  const defs: Array<[string, RouteDef | QueueConsumerDef | ScheduleDef]> = [
    ...Object.entries<RouteDef>(routes),
    ...Object.entries<QueueConsumerDef>(queueConsumers),
    ...Object.entries<ScheduleDef>(schedules),
  ];
  const entries: Array<[string, string, boolean, boolean]> = [
    ['authorizer', 'functions/api/authorizer.ts', false, false],
    ...defs.map(([id, def]): [string, string, boolean, boolean] => [
      id,
      def.handler,
      def.secrets?.includes('googleAds') === true,
      carriesIntelSnapshot(id, def),
    ]),
  ];
  const outDir = mkdtempSync(path.join(tmpdir(), 'clicksieve-bench-'));
  try {
    const bundles: Array<{ name: string; outfile: string; beside?: string }> = [];
    for (const [name, entry, googleAdsApi, intelSnapshot] of entries) {
      const dir = path.join(outDir, name);
      mkdirSync(dir);
      const [outfile, beside] = await bundleFunction(entry, path.join(dir, 'index.js'), {
        googleAdsApi,
        intelSnapshot,
      });
      bundles.push({ name, outfile: outfile!, beside });
    }
    // Round-robin, one load of each function per pass: a slow spell of the machine (a shared host's CPU speed
    // varies by half within seconds) lands on one sample of many functions, not on every sample of one.
    const samples = bundles.map((): number[] => []);
    for (let pass = 0; pass < runs; pass++) {
      for (const [i, b] of bundles.entries()) samples[i]!.push(coldLoadMs(b.outfile));
    }
    const kib = (file: string) => Math.round(statSync(file).size / 1024);
    return bundles.map((b, i) => {
      const sorted = samples[i]!.sort((x, y) => x - y);
      return {
        name: b.name,
        bundleKiB: kib(b.outfile),
        besideKiB: b.beside === undefined ? undefined : kib(b.beside),
        coldStartMs: rounded(sorted[Math.floor(sorted.length / 2)]!, 1),
        coldStartRangeMs: [rounded(sorted[0]!, 1), rounded(sorted.at(-1)!, 1)],
      };
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** One fresh `node` process loading the bundle: the module load alone, in milliseconds. */
function coldLoadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, AWS_REGION: 'us-east-1', TABLE_NAME: 'bench', BUCKET_NAME: 'bench' },
    encoding: 'utf8',
  });
  return Number(out);
}
