import { execFileSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Loads `entry` in a fresh node (as a cold Lambda does), then runs `after`; prints the google-ads-api files loaded. */
function googleAdsFilesLoaded(entry: string, after = ''): number[] {
  const script = [
    "const count = () => Object.keys(require.cache).filter((file) => file.includes('node_modules/google-ads-api')).length;",
    `require(${JSON.stringify(path.join(repoRoot, entry))});`,
    'const atLoad = count();',
    after,
    'process.stdout.write(JSON.stringify([atLoad, count()]));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TABLE_NAME: 'lazy-loading',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    encoding: 'utf8',
  });
  return JSON.parse(out) as number[];
}

describe('the Google Ads push function', () => {
  it('does not load google-ads-api at module load, only when an account is reached', () => {
    const [atLoad, afterAccount] = googleAdsFilesLoaded(
      'functions/scheduled/blocklist-push.ts',
      `require(${JSON.stringify(path.join(repoRoot, 'shared/googleAds/accounts.ts'))}).recordedAccount('1234567890');`,
    );
    expect(atLoad).toBe(0);
    expect(afterAccount).toBeGreaterThan(0);
  }, 120_000);
});
