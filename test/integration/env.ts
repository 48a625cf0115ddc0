import { ENV } from '../../shared/config/env';
import { queueNames } from '../../shared/routes';

/** Integration tests run only against the emulators of globalSetup.ts: fail loudly when they are not there. */
const required = [
  'CLICKSIEVE_INTEGRATION_EMULATORS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_S3',
  ENV.tableName,
  ENV.countersTableName,
  ENV.bucketName,
  ENV.adminKeySha256,
  ENV.tokenSigningKey,
  ...queueNames.map((queue) => ENV.queueUrl[queue]),
];
const missing = required.filter((name) => !process.env[name]);
if (missing.length > 0) {
  throw new Error(
    `integration tests need the emulators of test/integration/globalSetup.ts (run them with jest --selectProjects integration); missing: ${missing.join(', ')}`,
  );
}
