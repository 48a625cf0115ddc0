import { once } from 'node:events';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { stringify } from 'csv-stringify';
import type { ClickRecord } from '../model';
import { isBotLevel } from './summaries';

/** The settlement CSV's columns, in order (../API.md, bot export). */
export const EXPORT_COLUMNS = [
  'click_id',
  'click_token',
  'timestamp',
  'ip',
  'is_bot',
  'score',
  'level',
  'action',
] as const;

/** One CSV row: the click's current (latest) verdict; `action` is the bot action. */
export function exportRow(click: Pick<ClickRecord, 'clickId' | 'clickToken' | 'at' | 'ip' | 'current'>): string[] {
  return [
    click.clickId,
    click.clickToken ?? '',
    new Date(click.at).toISOString(),
    click.ip,
    String(isBotLevel(click.current.botLevel)),
    String(click.current.score),
    click.current.botLevel,
    click.current.botAction,
  ];
}

interface CsvTarget {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
}

/** 5 MiB parts, 4 in flight: memory stays ~20 MiB whatever the number of rows. */
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;

/**
 * Streams clicks as CSV into one S3 object (multipart upload), with back-pressure from the upload down to
 * the reads: nothing holds more than a few parts. Returns the number of data rows written.
 * A failure on either side aborts the upload, so no partial object is left behind.
 */
export async function writeClickCsv(clicks: AsyncIterable<ClickRecord>, target: CsvTarget): Promise<number> {
  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS] });
  const upload = new Upload({
    client: target.s3,
    params: { Bucket: target.bucket, Key: target.key, Body: csv, ContentType: 'text/csv; charset=utf-8' },
    partSize: PART_SIZE,
    queueSize: PARTS_IN_FLIGHT,
  });
  const uploaded = upload.done();
  let failed: unknown;
  // Failures are collected in `failed` below; an 'error' event without a listener would crash the process.
  csv.on('error', (error) => {
    failed ??= error;
  });
  uploaded.catch((error) => {
    failed ??= error;
    csv.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  let rows = 0;
  try {
    for await (const click of clicks) {
      if (failed) break;
      if (!csv.write(exportRow(click))) await once(csv, 'drain');
      rows++;
    }
    csv.end();
  } catch (error) {
    failed ??= error;
    await upload.abort().catch(() => undefined);
    csv.destroy();
  }
  await uploaded.catch(() => undefined);
  if (failed) throw failed;
  return rows;
}
