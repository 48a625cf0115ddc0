import { Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type QueueName, queueConsumers, queueNames } from '../../shared/routes';
import { COUNTERS_TABLE, TABLE } from '../../shared/store/table';
import { WorkQueue } from './work-queue';

/** AWS recommends a queue's visibility timeout of at least six times its consumer's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

/** The Google Ads credentials blocklistPush needs; the operator fills them in after deploying. */
const GOOGLE_ADS_FIELDS = ['developer_token', 'client_id', 'client_secret', 'refresh_token', 'login_customer_id'];

/**
 * Everything that holds state: the table, the queues, the bucket and the secrets. Table, buckets and
 * secrets are retained when the stack is deleted; the API construct is handed them as typed props.
 */
export class DataStore extends Construct {
  readonly table: Table;
  /** The velocity counters (shared/store/table.ts COUNTERS_TABLE). */
  readonly counters: Table;
  readonly queues: Readonly<Record<QueueName, WorkQueue>>;
  readonly bucket: Bucket;
  /** Server access logs of the buckets. */
  readonly accessLogs: Bucket;
  readonly adminKey: Secret;
  readonly tokenSigningKey: Secret;
  readonly googleAdsCredentials: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // KMS with the AWS-owned-by-account key (aws/dynamodb): encrypted at rest with key use in CloudTrail,
      // without a customer key's monthly fee and per-request charge on every click; nothing outside
      // this account reads the table, which is what a customer-managed key policy would be for.
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: index.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }

    // Counters rebuild themselves within their windows (a day; an actor's statistics, a week): no recovery, no
    // deletion protection, deleted with the stack.
    this.counters = new Table(this, 'Counters', {
      partitionKey: { name: COUNTERS_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: COUNTERS_TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: COUNTERS_TABLE.ttlAttribute,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.counters).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Velocity counters only: every item expires within days and rebuilds itself from new clicks; point-in-time recovery would bill for data worth nothing after its windows.',
    });

    this.queues = Object.fromEntries(
      queueNames.map((name) => {
        const consumer = Object.values(queueConsumers).find((def) => def.queue === name);
        if (!consumer) throw new Error(`queue ${name} has no consumer in shared/routes.ts`);
        const queue = new WorkQueue(this, `${pascal(name)}Queue`, {
          visibilityTimeout: Duration.seconds(consumer.visibilityTimeoutSeconds),
          maxReceiveCount: consumer.maxReceiveCount,
        });
        return [name, queue];
      }),
    ) as Record<QueueName, WorkQueue>;

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogs = accessLogs;
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Data', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Rollups are rewritten in place; versions let an operator recover from a bad rollup run.
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      lifecycleRules: [
        { id: 'exports', prefix: 'exports/', expiration: Duration.days(30) },
        { id: 'intel-snapshots', prefix: 'intel/', expiration: Duration.days(30) },
        {
          id: 'housekeeping',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(30),
        },
        { id: 'delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.adminKey = new Secret(this, 'AdminKey', {
      description: 'clicksieve admin key (x-admin-key): creates properties and rotates any key',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.tokenSigningKey = new Secret(this, 'TokenSigningKey', {
      description: 'clicksieve master key from which each property’s click-token signing key is derived',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.googleAdsCredentials = new Secret(this, 'GoogleAdsCredentials', {
      description: 'Google Ads API credentials for the blocklist push; empty until the operator fills them in',
      secretObjectValue: Object.fromEntries(GOOGLE_ADS_FIELDS.map((field) => [field, SecretValue.unsafePlainText('')])),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const secret of [this.adminKey, this.tokenSigningKey, this.googleAdsCredentials]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotated by the operator, not by a rotation Lambda: the admin key is handed to people, the signing ' +
          'key would invalidate every outstanding click token, and Google Ads tokens come from Google.',
      });
    }
  }
}

export function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
