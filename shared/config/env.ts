/** Configuration comes from the environment, read once at module load; a missing value fails fast. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Names of the environment variables the stack (infra/) and the local server set for every function. */
export const ENV = {
  tableName: 'TABLE_NAME',
  /** The velocity counters' own table (shared/store/table.ts COUNTERS_TABLE). */
  countersTableName: 'COUNTERS_TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  queueUrl: {
    beacons: 'QUEUE_URL_BEACONS',
    conversions: 'QUEUE_URL_CONVERSIONS',
    exports: 'QUEUE_URL_EXPORTS',
    counts: 'QUEUE_URL_COUNTS',
  },
  /** AWS: Secrets Manager ARN of the deployment's admin key. */
  adminKeySecretArn: 'ADMIN_KEY_SECRET_ARN',
  /** Local: SHA-256 (hex) of the admin key. */
  adminKeySha256: 'ADMIN_KEY_SHA256',
  /** Local: master key for click-token signing keys (hex, ≥ 32 digits). */
  tokenSigningKey: 'TOKEN_SIGNING_KEY',
  /** AWS: Secrets Manager ARN of the click-token signing master key. */
  tokenSigningSecretArn: 'TOKEN_SIGNING_SECRET_ARN',
  /** AWS: Secrets Manager ARN of the Google Ads API credentials (blocklistPush only; unset locally). */
  googleAdsSecretArn: 'GOOGLE_ADS_SECRET_ARN',
  /** AWS: JSON map plan id -> API Gateway usage plan id. Unset locally (the local gateway reads plans.json). */
  usagePlanIds: 'USAGE_PLAN_IDS',
  /** Local: `true` makes the S3 client use path-style URLs (emulators). */
  s3ForcePathStyle: 'CLICKSIEVE_S3_FORCE_PATH_STYLE',
  version: 'CLICKSIEVE_VERSION',
  /** Local: `recorded` answers Google Ads calls from the in-process recorded transport (no network). */
  googleAdsTransport: 'CLICKSIEVE_GOOGLE_ADS_TRANSPORT',
} as const;
