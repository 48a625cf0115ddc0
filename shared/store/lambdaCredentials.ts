/** Credentials as Lambda puts them in the environment. */
interface EnvironmentCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Bundled in place of `@aws-sdk/credential-provider-node` in the deployed functions (see
 * infra/constructs/bundling.ts). Lambda hands every function its role's credentials in the environment;
 * the SDK's default chain would also bundle profiles, SSO, web identity, IMDS and the STS/SSO clients
 * they need (~90 KiB per function) that never run there. Same export as the package it replaces.
 */
export const defaultProvider = () => async (): Promise<EnvironmentCredentials> => {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials in the Lambda environment');
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
};
