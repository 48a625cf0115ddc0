// One jest run, three projects: pure unit tests, integration tests against DynamoDB Local and the
// SQS/S3 emulators (started once by the global setup), and CDK assertion tests.
// The SDK warns once per worker that it will want Node 22 from 2027; Node 20 runs it fine today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const common = {
  testEnvironment: 'node',
  // @middy/* is ESM-only; point jest at the files and let swc turn them into CommonJS.
  moduleNameMapper: { '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|isbot)/)'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/globalSetup.ts',
      globalTeardown: '<rootDir>/test/integration/globalTeardown.ts',
      setupFiles: ['<rootDir>/test/integration/env.ts'],
    },
    { ...common, displayName: 'cdk', testMatch: ['<rootDir>/test/cdk/**/*.test.ts'] },
  ],
  testTimeout: 60000,
};
