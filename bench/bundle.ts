import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { GOOGLE_ADS_API_MODULE, LAMBDA_BUNDLE, LAMBDA_BUNDLE_ALIAS } from '../infra/constructs/bundling';

const repoRoot = path.resolve(__dirname, '..');

/** The IP-intelligence snapshot the stack copies beside a scoring function's index.js (infra/constructs/clicksieve-function.ts). */
const INTEL_SNAPSHOT = path.join(repoRoot, 'shared', 'intel', 'snapshot', 'ipintel.bin');

/**
 * Bundles one function as the CDK stack does (LAMBDA_BUNDLE, SDK included, the same aliases); a
 * function that reaches Google Ads gets google-ads-api's module as a bundle of its own beside it, and a
 * scoring function the IP-intelligence snapshot. Returns the files written (the function's first).
 */
export async function bundleFunction(
  entry: string,
  outfile: string,
  options: { readonly googleAdsApi?: boolean; readonly intelSnapshot?: boolean } = {},
): Promise<string[]> {
  const settings: BuildOptions = {
    ...LAMBDA_BUNDLE,
    bundle: true,
    logLevel: 'silent',
    alias: { ...LAMBDA_BUNDLE_ALIAS },
  };

  await build({
    ...settings,
    entryPoints: [path.join(repoRoot, entry)],
    outfile,
    external: options.googleAdsApi ? [GOOGLE_ADS_API_MODULE.specifier] : [],
  });
  if (options.intelSnapshot)
    copyFileSync(INTEL_SNAPSHOT, path.join(path.dirname(outfile), path.basename(INTEL_SNAPSHOT)));
  if (!options.googleAdsApi) return [outfile];
  const beside = path.join(path.dirname(outfile), GOOGLE_ADS_API_MODULE.file);
  await build({ ...settings, entryPoints: [GOOGLE_ADS_API_MODULE.entry], outfile: beside });
  return [outfile, beside];
}
