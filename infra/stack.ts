import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type QueueName, queueNames } from '../shared/routes';
import { ClicksieveApi } from './constructs/api';
import { DashboardHosting } from './constructs/dashboard-hosting';
import { DataStore } from './constructs/data-store';
import { Operations } from './constructs/operations';

/**
 * One stack, two layers: the data store (table, queues, bucket, secrets — retained on delete) and the
 * API (functions, authorizer, usage plans, schedules) handed the data store's resources as typed props.
 * One stack rather than two keeps `cdk deploy` a single step and avoids cross-stack exports, which would
 * pin the table, queues and bucket against replacement.
 */
export class ClicksieveStack extends Stack {
  readonly data: DataStore;
  readonly api: ClicksieveApi;
  readonly operations: Operations;
  readonly dashboard: DashboardHosting;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.data = new DataStore(this, 'Data');
    const queues: Partial<Record<QueueName, IQueue>> = {};
    for (const name of queueNames) queues[name] = this.data.queues[name].queue;
    this.api = new ClicksieveApi(this, 'Api', {
      data: {
        table: this.data.table,
        counters: this.data.counters,
        queues: queues as Record<QueueName, IQueue>,
        bucket: this.data.bucket,
        adminKey: this.data.adminKey,
        tokenSigningKey: this.data.tokenSigningKey,
        googleAdsCredentials: this.data.googleAdsCredentials,
      },
    });

    const alarmEmail: unknown = this.node.tryGetContext('alarmEmail');
    const wafRateLimit: unknown = this.node.tryGetContext('wafRateLimit');
    const deadLetterQueues: Partial<Record<QueueName, IQueue>> = {};
    for (const name of queueNames) deadLetterQueues[name] = this.data.queues[name].deadLetterQueue;
    this.operations = new Operations(this, 'Operations', {
      api: this.api.api,
      functions: this.api.functions,
      deadLetterQueues: deadLetterQueues as Record<QueueName, IQueue>,
      alarmEmail: typeof alarmEmail === 'string' ? alarmEmail : undefined,
      wafRateLimit: wafRateLimit === undefined ? undefined : wafLimit(wafRateLimit),
    });

    this.dashboard = new DashboardHosting(this, 'Dashboard', { api: this.api.api, accessLogs: this.data.accessLogs });

    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.dashboard.distribution.distributionDomainName}/dashboard/`,
      description: 'Sign in with a property’s read-only key (rk_…); the API is also served here under /v1/',
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL; every route is under v1/' });
    new CfnOutput(this, 'AdminKeySecretArn', {
      value: this.data.adminKey.secretArn,
      description: 'Read the admin key: aws secretsmanager get-secret-value --secret-id <this> --query SecretString',
    });
    new CfnOutput(this, 'GoogleAdsSecretArn', {
      value: this.data.googleAdsCredentials.secretArn,
      description: 'Put the Google Ads API credentials here (see README, "Google Ads IP exclusions")',
    });
    new CfnOutput(this, 'BucketName', { value: this.data.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
  }
}

/** `-c wafRateLimit=N`: WAF rate rules take 10 to 2,000,000,000 requests per 5 minutes. */
function wafLimit(value: unknown): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 10 || limit > 2_000_000_000) {
    throw new Error(`context wafRateLimit must be an integer from 10 to 2000000000, got ${String(value)}`);
  }
  return limit;
}
