import * as path from 'node:path';

/**
 * esbuild settings every function is bundled with, by the stack and by `npm run bench` alike. On Lambda the
 * credentials are in the environment: the SDK's provider chain is replaced by a reader of those variables.
 */
export const LAMBDA_BUNDLE_ALIAS: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.resolve(__dirname, '..', '..', 'shared', 'store', 'lambdaCredentials.ts'),
};
