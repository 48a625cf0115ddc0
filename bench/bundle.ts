import path from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { GOOGLE_ADS_API_MODULE, LAMBDA_BUNDLE, LAMBDA_BUNDLE_ALIAS } from '../infra/constructs/bundling';

const repoRoot = path.resolve(__dirname, '..');

/**
 * Bundles one function as the CDK stack does (LAMBDA_BUNDLE, SDK included, the same aliases); a
 * function that reaches Google Ads gets google-ads-api's module as a bundle of its own beside it. Returns the
 * files written (the function's first).
 */
export async function bundleFunction(
  entry: string,
  outfile: string,
  options: { readonly googleAdsApi?: boolean } = {},
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
  if (!options.googleAdsApi) return [outfile];
  const beside = path.join(path.dirname(outfile), GOOGLE_ADS_API_MODULE.file);
  await build({ ...settings, entryPoints: [GOOGLE_ADS_API_MODULE.entry], outfile: beside });
  return [outfile, beside];
}
