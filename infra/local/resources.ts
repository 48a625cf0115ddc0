import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyExists, BucketAlreadyOwnedByYou, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type QueueName, queueConsumers, queueNames } from '../../shared/routes';
import { COUNTERS_TABLE, TABLE } from '../../shared/store/table';

/**
 * The stack's stateful resources on the local emulators, created from the same definitions as the
 * CDK stack: the table of shared/store/table.ts, a queue + DLQ per consumer of shared/routes.ts,
 * the bucket. Every step is idempotent: after a restart the table and bucket already exist.
 */
const LOCAL_TABLE_NAME = 'clicksieve';
const LOCAL_COUNTERS_TABLE_NAME = 'clicksieve-counters';
const LOCAL_BUCKET_NAME = 'clicksieve-local';

export const localQueueName = (queue: QueueName, suffix = ''): string => `clicksieve-${queue}${suffix}`;
export const dlqName = (queueName: string): string => `${queueName}-dlq`;

interface QueueSettings {
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
}

interface LocalQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

export type LocalQueues = Record<QueueName, LocalQueue>;

export interface LocalResources {
  readonly tableName: string;
  readonly countersTableName: string;
  readonly bucketName: string;
  readonly queues: LocalQueues;
}

/** A table as table.ts defines it (TABLE or COUNTERS_TABLE), with its TTL on. */
async function ensureTable(
  dynamo: DynamoDBClient,
  tableName: string,
  definition: typeof TABLE | typeof COUNTERS_TABLE,
): Promise<void> {
  const indexes: ReadonlyArray<(typeof TABLE.indexes)[number]> = definition.indexes;
  const keyNames = [
    definition.partitionKey,
    definition.sortKey,
    ...indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keyNames.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: definition.partitionKey, KeyType: 'HASH' },
          { AttributeName: definition.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes:
          indexes.length === 0
            ? undefined
            : indexes.map((index) => ({
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey, KeyType: 'HASH' },
                  { AttributeName: index.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: index.projection },
              })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
      }),
    );
  }
}

/** A queue and its DLQ; the queue redrives to the DLQ after `maxReceiveCount` deliveries. */
export async function ensureQueuePair(sqs: SQSClient, name: string, settings: QueueSettings): Promise<LocalQueue> {
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: dlqName(name), Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: settings.maxReceiveCount }),
      },
    }),
  );
  return { name, url: queue.QueueUrl!, arn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl!, dlqArn };
}

/** Settings of a queue as its consumer in the route table defines them. */
function queueSettings(queue: QueueName): QueueSettings {
  const consumer = Object.values(queueConsumers).find((def) => def.queue === queue);
  if (!consumer) throw new Error(`no consumer for queue ${queue} in shared/routes.ts`);
  return { maxReceiveCount: consumer.maxReceiveCount, visibilityTimeoutSeconds: consumer.visibilityTimeoutSeconds };
}

/** Every queue of the route table; `suffix` gives a private set (integration tests isolate stacks this way). */
export async function ensureQueues(sqs: SQSClient, suffix = ''): Promise<LocalQueues> {
  const entries = await Promise.all(
    queueNames.map(
      async (queue) =>
        [queue, await ensureQueuePair(sqs, localQueueName(queue, suffix), queueSettings(queue))] as const,
    ),
  );
  return Object.fromEntries(entries) as LocalQueues;
}

async function ensureBucket(s3: S3Client, bucketName = LOCAL_BUCKET_NAME): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou || error instanceof BucketAlreadyExists)) throw error;
  }
}

export async function ensureResources(clients: {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  s3: S3Client;
}): Promise<LocalResources> {
  const [, , queues] = await Promise.all([
    ensureTable(clients.dynamo, LOCAL_TABLE_NAME, TABLE),
    ensureTable(clients.dynamo, LOCAL_COUNTERS_TABLE_NAME, COUNTERS_TABLE),
    ensureQueues(clients.sqs),
    ensureBucket(clients.s3),
  ]);
  return {
    tableName: LOCAL_TABLE_NAME,
    countersTableName: LOCAL_COUNTERS_TABLE_NAME,
    bucketName: LOCAL_BUCKET_NAME,
    queues,
  };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return attributes.Attributes!.QueueArn!;
}
