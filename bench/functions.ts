import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { queueConsumers, routes, schedules } from '../shared/routes';
import { bundleFunction } from './bundle';

interface FunctionFigure {
  readonly name: string;
  readonly bundleKiB: number;
  /** Median of fresh `node` processes loading the bundle (module init only, no handler call). */
  readonly coldStartMs: number;
}

/**
 * Bundles every function as the CDK stack does (esbuild, CJS, minified, SDK included, the same aliases) and
 * times its cold load.
 */
export async function measureFunctions(runs = 5): Promise<FunctionFigure[]> {
  const entries: Array<[string, string]> = [
    ['authorizer', 'functions/api/authorizer.ts'],
    ...Object.entries(routes).map(([id, route]): [string, string] => [id, route.handler]),
    ...Object.entries(queueConsumers).map(([id, def]): [string, string] => [id, def.handler]),
    ...Object.entries(schedules).map(([id, def]): [string, string] => [id, def.handler]),
  ];
  const outDir = mkdtempSync(path.join(tmpdir(), 'clicksieve-bench-'));
  try {
    const figures: FunctionFigure[] = [];
    for (const [name, entry] of entries) {
      const outfile = path.join(outDir, `${name}.js`);
      await bundleFunction(entry, outfile);
      figures.push({
        name,
        bundleKiB: Math.round(statSync(outfile).size / 1024),
        coldStartMs: coldLoadMs(outfile, runs),
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
