import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from './aws/dynamodb';
import { ttlAt } from './table';

/**
 * Export jobs: `EXPORT#<exportId>` / `EXPORT`. A job is `pending` until the writer finishes it once:
 * `finish` only moves a pending job, so a redelivered message finds it done and changes nothing.
 * Jobs expire (TTL) after JOB_LIFETIME_SECONDS; reads treat expired ones as absent.
 */
type ExportJobStatus = 'pending' | 'ready' | 'failed';

interface ExportJob {
  readonly exportId: string;
  readonly propertyId: string;
  /** Local dates as requested, and the instants they cover: `[fromMs, toMs)`. */
  readonly from: string;
  readonly to: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly objectKey: string;
  readonly status: ExportJobStatus;
  readonly rows?: number;
  readonly error?: string;
  readonly createdAt: number;
}

export interface ExportJobStore {
  create(job: ExportJob): Promise<void>;
  get(exportId: string, nowMs: number): Promise<ExportJob | undefined>;
  /** Moves a pending job to ready/failed; false when it was no longer pending (someone finished it). */
  finish(
    exportId: string,
    outcome: { status: 'ready'; rows: number } | { status: 'failed'; error: string },
  ): Promise<boolean>;
}

const JOB_LIFETIME_SECONDS = 7 * 86_400;
const jobKey = (exportId: string) => ({ pk: `EXPORT#${exportId}`, sk: 'EXPORT' });

export class DynamoExportJobStore implements ExportJobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: ExportJob): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...jobKey(job.exportId), ...job, expiresAt: ttlAt(job.createdAt, JOB_LIFETIME_SECONDS) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(exportId: string, nowMs: number): Promise<ExportJob | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobKey(exportId) }));
    if (!Item || (typeof Item.expiresAt === 'number' && Item.expiresAt * 1000 <= nowMs)) return undefined;
    const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...job } = Item;
    return job as ExportJob;
  }

  async finish(
    exportId: string,
    outcome: { status: 'ready'; rows: number } | { status: 'failed'; error: string },
  ): Promise<boolean> {
    const detail =
      outcome.status === 'ready' ? { name: 'rows', value: outcome.rows } : { name: 'error', value: outcome.error };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(exportId),
          UpdateExpression: 'SET #status = :status, #detail = :detail',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#detail': detail.name },
          ExpressionAttributeValues: { ':status': outcome.status, ':detail': detail.value, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
