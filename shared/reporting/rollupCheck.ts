import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ClickStore, RollupCounts, RollupStore } from '../store';
import { dayRangeBounds } from './calendar';

/** More clicks than this in a day are not recounted: the check stays within a scheduled run's time. */
const RECOUNT_LIMIT = 20_000;

export interface DayCheck {
  readonly day: string;
  readonly rollup: { clicks: number; events: number; labels: RollupCounts['labels'] };
  /** From the clicks themselves; absent when the day has more than RECOUNT_LIMIT clicks. */
  readonly recount?: { clicks: number; labels: RollupCounts['labels'] };
  /** Whether rollup and recount agree (a click being written during the check can make them differ by a few). */
  readonly consistent?: boolean;
}

/**
 * The rollup check: per day, the rollup's figures beside a recount from the stored clicks. It reports and
 * never rewrites counters, because a click stored between the recount and a repair would then be counted
 * twice; a difference shows in the summary (and the log) for a person to look at.
 */
export async function checkDays(
  stores: { clicks: ClickStore; rollups: RollupStore },
  propertyId: string,
  timezone: string,
  days: readonly string[],
): Promise<DayCheck[]> {
  const rollups = await stores.rollups.readDays(propertyId, days);
  const checks: DayCheck[] = [];
  for (const day of days) {
    const counts = rollups.get(day)!;
    const rollup = { clicks: counts.clicks, events: counts.events, labels: counts.labels };
    if (counts.clicks > RECOUNT_LIMIT) {
      checks.push({ day, rollup });
      continue;
    }
    const { fromMs, toMs } = dayRangeBounds(day, day, timezone);
    const labels = { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 };
    let clicks = 0;
    for await (const click of stores.clicks.clicksInRange(propertyId, fromMs, toMs)) {
      clicks++;
      labels[click.current.label]++;
      if (clicks > RECOUNT_LIMIT) break;
    }
    if (clicks > RECOUNT_LIMIT) {
      checks.push({ day, rollup });
      continue;
    }
    const consistent =
      clicks === counts.clicks &&
      Object.entries(labels).every(([k, v]) => counts.labels[k as keyof typeof labels] === v);
    checks.push({ day, rollup, recount: { clicks, labels }, consistent });
  }
  return checks;
}

export const rollupSummaryKey = (propertyId: string, day: string) => `rollups/${propertyId}/${day}.json`;

export async function writeRollupSummary(
  target: { s3: S3Client; bucket: string },
  propertyId: string,
  check: DayCheck,
  checkedAt: number,
): Promise<void> {
  await target.s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: rollupSummaryKey(propertyId, check.day),
      Body: JSON.stringify({ propertyId, ...check, checkedAt: new Date(checkedAt).toISOString() }),
      ContentType: 'application/json',
    }),
  );
}
