import { newId } from '../shared/ids';
import type { ClickRecord } from '../shared/model';
import { dayInZone, rangeDays } from '../shared/reporting/calendar';
import { writeClickCsv } from '../shared/reporting/clickCsv';
import { propertyStats } from '../shared/reporting/summaries';
import {
  clickItem,
  DynamoClickStore,
  DynamoRollupStore,
  ROLLUP_SHARDS,
  rollupDelta,
  rollupUpdate,
  sumCounts,
} from '../shared/store';
import { BatchWriteCommand, UpdateCommand } from '../shared/store/aws/dynamodb';
import { documentClient } from '../shared/store/clients';
import { s3 } from '../shared/store/s3Sdk';
import { clickFixture } from '../test/unit/reporting/fixtures';

interface ReportingFigures {
  readonly exportRows: number;
  readonly exportRowsPerSecond: number;
  readonly exportPeakRssMiB: number;
  readonly exports: readonly ExportFigure[];
  /** 90-day stats latency (median of 5) at two click counts: it should not grow with clicks. */
  readonly statsMs: { readonly clicks: number; readonly medianMs: number }[];
}

/**
 * Export throughput and memory, and 90-day stats latency, against DynamoDB Local and the S3 emulator.
 * The caller sets the endpoints (AWS_ENDPOINT_URL_DYNAMODB / _S3, CLICKSIEVE_S3_FORCE_PATH_STYLE) and names the
 * table and bucket; clicks are seeded with BatchWrite and their rollups written per day × shard.
 */
export async function benchReporting(target: {
  tableName: string;
  bucket: string;
  clicks?: number;
}): Promise<ReportingFigures> {
  const total = target.clicks ?? 100_000;
  const propertyId = newId('prop_');
  const now = Date.now();
  const rollups = new DynamoRollupStore(documentClient, target.tableName);
  const statsAt = async (clicks: number) => ({ clicks, medianMs: await medianStatsMs(rollups, propertyId, now) });

  const statsMs = [];
  const firstBatch = Math.floor(total / 10);
  const exports: ExportFigure[] = [];
  await seed(target.tableName, propertyId, now, 0, firstBatch);
  statsMs.push(await statsAt(firstBatch));
  exports.push(await measureExport(target.tableName, target.bucket, propertyId, now));
  await seed(target.tableName, propertyId, now, firstBatch, total);
  statsMs.push(await statsAt(total));
  exports.push(await measureExport(target.tableName, target.bucket, propertyId, now));
  return {
    exportRows: exports[1]!.rows,
    exportRowsPerSecond: exports[1]!.rowsPerSecond,
    exportPeakRssMiB: exports[1]!.peakRssMiB,
    exports,
    statsMs,
  };
}

interface ExportFigure {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number;
  /** Peak heap above the heap in use when the export started: flat across sizes when the export streams. */
  readonly heapGrowthMiB: number;
}

async function measureExport(
  tableName: string,
  bucket: string,
  propertyId: string,
  now: number,
): Promise<ExportFigure> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseHeap = process.memoryUsage().heapUsed;
  let peakHeap = baseHeap;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    peakRss = Math.max(peakRss, usage.rss);
  }, 10);
  const started = performance.now();
  const clicks = new DynamoClickStore(documentClient, tableName);
  const rows = await writeClickCsv(clicks.clicksInRange(propertyId, now - 90 * 86_400_000, now + 1), {
    s3,
    bucket,
    key: `bench/${propertyId}-${rowsKey()}.csv`,
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return {
    rows,
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMiB: mib(peakRss),
    heapGrowthMiB: mib(peakHeap - baseHeap),
  };
}

let exportCount = 0;
const rowsKey = () => String(exportCount++);

/** Clicks `from..to-1` of the run, spread over the last 89 days, written 25 per BatchWrite, 8 in flight. */
async function seed(tableName: string, propertyId: string, now: number, from: number, to: number): Promise<void> {
  const span = 89 * 86_400_000;
  const records: ClickRecord[] = [];
  for (let i = from; i < to; i++)
    records.push(clickFixture(propertyId, newId('clk_'), now - ((i * 7919) % span), (i * 37) % 100, ['datacenter_ip']));
  const batches: ClickRecord[][] = [];
  for (let i = 0; i < records.length; i += 25) batches.push(records.slice(i, i + 25));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let pending: Record<string, unknown>[] | undefined = batch.map((r) => ({ PutRequest: { Item: clickItem(r) } }));
      while (pending && pending.length > 0) {
        const out = await documentClient.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        pending = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // The same counters the live path adds one click at a time, summed per day and shard to keep seeding fast.
  const perShard = new Map<string, Map<string, number>>();
  records.forEach((record, i) => {
    const key = `${dayInZone(record.at, 'UTC')}#${i % ROLLUP_SHARDS}`;
    const sums = perShard.get(key) ?? new Map<string, number>();
    for (const [name, amount] of rollupDelta({ after: record.current, isNewClick: true }))
      sums.set(name, (sums.get(name) ?? 0) + amount);
    perShard.set(key, sums);
  });
  for (const [key, sums] of perShard) {
    const [day, shard] = key.split('#');
    await documentClient.send(
      new UpdateCommand({ TableName: tableName, ...rollupUpdate(propertyId, day!, Number(shard), sums) }),
    );
  }
}

async function medianStatsMs(rollups: DynamoRollupStore, propertyId: string, now: number): Promise<number> {
  const timings: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    propertyStats(sumCounts((await rollups.readDays(propertyId, rangeDays('90days', now, 'UTC'))).values()));
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  return Math.round(timings[2]! * 10) / 10;
}

/** One line per figure, for bench/run.ts. */
export function formatReportingFigures(f: ReportingFigures): string {
  return [
    ...f.exports.map(
      (e) =>
        `export             ${e.rows.toLocaleString('en-US')} rows, ${e.rowsPerSecond.toLocaleString('en-US')} rows/s, ` +
        `peak heap +${e.heapGrowthMiB} MiB over its start (process RSS ${e.peakRssMiB} MiB, seeding included)`,
    ),
    ...f.statsMs.map((s) => `stats 90 days      ${s.medianMs} ms at ${s.clicks.toLocaleString('en-US')} clicks`),
  ].join('\n');
}
