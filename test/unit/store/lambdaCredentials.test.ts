import { build } from 'esbuild';
import { LAMBDA_BUNDLE_ALIAS } from '../../../infra/constructs/bundling';
import { defaultProvider } from '../../../shared/store/lambdaCredentials';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('Lambda credentials from the environment', () => {
  it('returns the role credentials Lambda puts in the environment, session token included', async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'tok',
    });
    await expect(defaultProvider()()).resolves.toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'tok',
    });
  });

  it('fails loudly rather than signing with nothing when the environment has no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(defaultProvider()()).rejects.toThrow('no AWS credentials');
  });

  it('replaces the SDK provider chain in a bundled function (no web identity, container or SSO providers)', async () => {
    const bundle = async (alias: Record<string, string>) => {
      const out = await build({
        stdin: {
          contents:
            "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const c = new DynamoDBClient({});",
          resolveDir: __dirname,
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        write: false,
        logLevel: 'silent',
        alias,
      });
      return out.outputFiles[0]!.text;
    };
    const [chain, environment] = await Promise.all([bundle({}), bundle({ ...LAMBDA_BUNDLE_ALIAS })]);
    for (const providerOnly of ['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) {
      expect(chain).toContain(providerOnly);
      expect(environment).not.toContain(providerOnly);
    }
    expect(environment.length).toBeLessThan(chain.length);
  });
});
