import { GetObjectCommand, HeadObjectCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ENV, optionalEnv, requireEnv } from '../config/env';
import { newId } from '../ids';
import { logger } from '../observability';
import { type ClickStore, clickStores, exportJobStore, type RollupStore, sumCounts } from '../store';
import { SendMessageCommand } from '../store/aws/sqs';
import { sqs } from '../store/clients';
import type { ExportJobStore } from '../store/exportJobs';
import { s3 } from '../store/s3Sdk';
import { dayRangeBounds, daysFrom } from './calendar';
import { writeClickCsv } from './clickCsv';

/** Ranges estimated (from rollups) at or below this many clicks are written during the request. */
const SYNC_EXPORT_MAX_ROWS = 50_000;
const URL_EXPIRY_SECONDS = 3600;
/** Optional override of SYNC_EXPORT_MAX_ROWS (tests and operators with slow tables). */
export const SYNC_EXPORT_MAX_ROWS_ENV = 'CLICKSIEVE_EXPORT_SYNC_MAX_ROWS';

type ExportAnswer =
  | { status: 'ready'; url: string; expires_at: string; rows: number }
  | { status: 'pending'; export_id: string }
  | { status: 'failed'; export_id: string; error: string };

interface ExportDeps {
  readonly clicks: ClickStore;
  readonly rollups: RollupStore;
  readonly jobs: ExportJobStore;
  readonly s3: S3Client;
  readonly bucket: string;
  /** Hands a job to the export writer (SQS in the service). */
  readonly enqueue: (exportId: string) => Promise<void>;
  readonly presign: (key: string, expiresInSeconds: number) => Promise<string>;
  readonly now: () => number;
  readonly syncMaxRows?: number;
  readonly urlExpirySeconds?: number;
}

const exportObjectKey = (propertyId: string, exportId: string) => `exports/${propertyId}/${exportId}.csv`;
export const dailyExportKey = (propertyId: string, day: string) => `exports/daily/${propertyId}/${day}.csv`;

function exportService(deps: ExportDeps) {
  const expiry = deps.urlExpirySeconds ?? URL_EXPIRY_SECONDS;
  const ready = async (key: string, rows: number): Promise<ExportAnswer> => {
    const expiresAt = new Date(deps.now() + expiry * 1000).toISOString();
    return { status: 'ready', url: await deps.presign(key, expiry), expires_at: expiresAt, rows };
  };

  return {
    /** Small ranges are written at once (200 ready); larger ones become a job (202 pending). */
    async requestExport(propertyId: string, timezone: string, from: string, to: string) {
      const { fromMs, toMs } = dayRangeBounds(from, to, timezone);
      const estimate = sumCounts((await deps.rollups.readDays(propertyId, daysFrom(from, to))).values()).clicks;
      const exportId = newId('exp_');
      const objectKey = exportObjectKey(propertyId, exportId);
      if (estimate <= (deps.syncMaxRows ?? SYNC_EXPORT_MAX_ROWS)) {
        const rows = await writeClickCsv(deps.clicks.clicksInRange(propertyId, fromMs, toMs), {
          s3: deps.s3,
          bucket: deps.bucket,
          key: objectKey,
        });
        logger.info('export written', { propertyId, exportId, rows });
        return { httpStatus: 200 as const, answer: await ready(objectKey, rows) };
      }
      const job = { exportId, propertyId, from, to, fromMs, toMs, objectKey, status: 'pending' as const };
      await deps.jobs.create({ ...job, createdAt: deps.now() });
      await deps.enqueue(exportId);
      logger.info('export queued', { propertyId, exportId, estimate });
      return { httpStatus: 202 as const, answer: { status: 'pending', export_id: exportId } satisfies ExportAnswer };
    },

    /** Undefined for an unknown id and for another property's export (both answer 404). */
    async exportStatus(propertyId: string, exportId: string): Promise<ExportAnswer | undefined> {
      const job = await deps.jobs.get(exportId, deps.now());
      if (!job || job.propertyId !== propertyId) return undefined;
      if (job.status === 'pending') return { status: 'pending', export_id: exportId };
      if (job.status === 'failed')
        return { status: 'failed', export_id: exportId, error: job.error ?? 'export failed' };
      return ready(job.objectKey, job.rows ?? 0);
    },

    /**
     * The writer's work for one job: a job that is no longer pending is left alone (redelivery). On the last
     * delivery a failure marks the job failed, so pollers learn of it instead of waiting forever.
     */
    async runExportJob(exportId: string, options: { lastAttempt: boolean }): Promise<'written' | 'skipped'> {
      const job = await deps.jobs.get(exportId, deps.now());
      if (job?.status !== 'pending') return 'skipped';
      try {
        const rows = await writeClickCsv(deps.clicks.clicksInRange(job.propertyId, job.fromMs, job.toMs), {
          s3: deps.s3,
          bucket: deps.bucket,
          key: job.objectKey,
        });
        await deps.jobs.finish(exportId, { status: 'ready', rows });
        logger.info('export written', { propertyId: job.propertyId, exportId, rows });
        return 'written';
      } catch (error) {
        if (options.lastAttempt)
          await deps.jobs.finish(exportId, { status: 'failed', error: 'the export could not be written' });
        throw error;
      }
    },

    /** The settlement file of one local day; an existing file is kept (the job may run more than once a day). */
    async writeDailyExport(propertyId: string, timezone: string, day: string): Promise<'written' | 'exists'> {
      const key = dailyExportKey(propertyId, day);
      if (await objectExists(deps.s3, deps.bucket, key)) return 'exists';
      const { fromMs, toMs } = dayRangeBounds(day, day, timezone);
      const rows = await writeClickCsv(deps.clicks.clicksInRange(propertyId, fromMs, toMs), {
        s3: deps.s3,
        bucket: deps.bucket,
        key,
      });
      logger.info('daily export written', { propertyId, day, rows });
      return 'written';
    },
  };
}

type ExportService = ReturnType<typeof exportService>;

async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (
      error instanceof NotFound ||
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
    ) {
      return false;
    }
    throw error;
  }
}

let defaultService: ExportService | undefined;

/** The service on the deployment's table, bucket and exports queue (TABLE_NAME, BUCKET_NAME, QUEUE_URL_EXPORTS). */
export function defaultExportService(): ExportService {
  if (!defaultService) {
    const bucket = requireEnv(ENV.bucketName);
    const { clicks, rollups } = clickStores();
    defaultService = exportService({
      clicks,
      rollups,
      jobs: exportJobStore(),
      s3,
      bucket,
      enqueue: async (exportId) => {
        const queueUrl = requireEnv(ENV.queueUrl.exports);
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ exportId }) }));
      },
      presign: (key, expiresIn) =>
        getSignedUrl(
          s3,
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ResponseContentDisposition: `attachment; filename="${key.slice(key.lastIndexOf('/') + 1)}"`,
          }),
          { expiresIn },
        ),
      now: Date.now,
      syncMaxRows: Number(optionalEnv(SYNC_EXPORT_MAX_ROWS_ENV) ?? SYNC_EXPORT_MAX_ROWS),
    });
  }
  return defaultService;
}
