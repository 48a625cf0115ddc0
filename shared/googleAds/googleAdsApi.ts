/**
 * Everything of a Google Ads function that needs google-ads-api (~28 MiB bundled, most of the function): the
 * client and the recorded transport. The stack bundles this module on its own, next to the function's
 * `index.js` (infra/constructs/clicksieve-function.ts, `googleAds`), and accounts.ts requires it only when a
 * linked account is reached: a cold start neither parses nor runs it.
 */
export { customerFor, GoogleAdsAccount } from './adsAccount';
export { RecordedGoogleAds } from './recordedGoogleAds';
