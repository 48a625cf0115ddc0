import path from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE_ALIAS } from '../infra/constructs/bundling';

const repoRoot = path.resolve(__dirname, '..');

/** Bundles one function as the CDK stack does: esbuild, CJS, minified, node22, SDK included, the same aliases. */
export async function bundleFunction(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(repoRoot, entry)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    outfile,
    logLevel: 'silent',
    mainFields: ['module', 'main'],
    alias: { ...LAMBDA_BUNDLE_ALIAS },
  });
}
