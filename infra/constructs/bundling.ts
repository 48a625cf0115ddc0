import * as path from 'node:path';

/**
 * esbuild settings every function is bundled with, by the stack and by `npm run bench` alike. On Lambda the
 * credentials are in the environment: the SDK's provider chain is replaced by a reader of those variables.
 */
export const LAMBDA_BUNDLE_ALIAS: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.resolve(__dirname, '..', '..', 'shared', 'store', 'lambdaCredentials.ts'),
};

/**
 * esbuild settings of every function besides the aliases (the stack's NodejsFunction passes these and no
 * main fields, so esbuild's own order for node applies): the afterBundling hook and `npm run bench` use them too.
 */
export const LAMBDA_BUNDLE = { platform: 'node', target: 'node22', format: 'cjs', minify: true } as const;

/**
 * Whether a function's asset carries the bundled IP-intelligence snapshot beside index.js: every function that scores
 * (`intel` in the route table), and the refresh, which falls back to it for any source it cannot download before one
 * is published. The stack and `npm run bench` both bundle by this.
 */
export const carriesIntelSnapshot = (id: string, def: { readonly intel?: boolean }): boolean =>
  def.intel === true || id === 'intelRefresh';

/**
 * The module of the Google Ads functions that carries google-ads-api (shared/googleAds/googleAdsApi.ts): left out
 * of their bundle (`require('./googleAdsApi')` stays a require) and bundled on its own next to it, so a cold start
 * parses ~0.5 MiB instead of ~28 (the stack's afterBundling hook and `npm run bench` both build it this way).
 */
export const GOOGLE_ADS_API_MODULE = {
  /** As accounts.ts requires it. */
  specifier: './googleAdsApi',
  entry: path.resolve(__dirname, '..', '..', 'shared', 'googleAds', 'googleAdsApi.ts'),
  /** Beside index.js in the function's asset. */
  file: 'googleAdsApi.js',
} as const;
