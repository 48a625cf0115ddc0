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

interface FunctionFigure {
  readonly name: string;
  readonly bundleKiB: number;
  /** google-ads-api's module, bundled beside the function and loaded only when an account is reached. */
  readonly besideKiB?: number;
  /** Median of fresh `node` processes loading the bundle (module init only, no handler call). */
  readonly coldStartMs: number;
}

/**
 * Bundles every function as the CDK stack does (esbuild, CJS, minified, SDK included, the same aliases) and
 * times its cold load.
 */
export async function measureFunctions(runs = 5): Promise<FunctionFigure[]> {
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
    const figures: FunctionFigure[] = [];
    for (const [name, entry, googleAdsApi, intelSnapshot] of entries) {
      const dir = path.join(outDir, name);
      mkdirSync(dir);
      const [outfile, beside] = await bundleFunction(entry, path.join(dir, 'index.js'), {
        googleAdsApi,
        intelSnapshot,
      });
      const kib = (file: string) => Math.round(statSync(file).size / 1024);
      figures.push({
        name,
        bundleKiB: kib(outfile!),
        besideKiB: beside === undefined ? undefined : kib(beside),
        coldStartMs: coldLoadMs(outfile!, runs),
      });
    }
    return figures;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function coldLoadMs(file: string, runs: number): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, AWS_REGION: 'us-east-1', TABLE_NAME: 'bench', BUCKET_NAME: 'bench' },
      encoding: 'utf8',
    });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]! * 10) / 10;
}
