import { addDays, dayInZone } from '../reporting/calendar';
import type { RollupCounts } from '../store/dailyRollup';

type TimeseriesRange = '7days' | '30days' | '90days';

const RANGE_DAYS: Readonly<Record<TimeseriesRange, number>> = { '7days': 7, '30days': 30, '90days': 90 };

/** How the wasted-spend figure is made; also sent with every answer so the dashboard can show it. */
export const SPEND_ESTIMATE =
  'invalid clicks (current verdict FRAUD) × the property setting averageCpc, rounded to cents; ' +
  'null when averageCpc is not set. An estimate: real clicks cost what the auction charged.';

/** The local days of a range, oldest first, ending today in the property's time zone. */
export function timeseriesDays(range: TimeseriesRange, nowMs: number, timeZone: string): string[] {
  const today = dayInZone(nowMs, timeZone);
  const count = RANGE_DAYS[range];
  return Array.from({ length: count }, (_, i) => addDays(today, i - count + 1));
}

interface DayFigures {
  readonly clicks: number;
  readonly clean: number;
  readonly suspicious: number;
  readonly invalid: number;
  readonly invalidShare: number;
  readonly wastedSpend: number | null;
}

const share = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const money = (amount: number) => Math.round(amount * 100) / 100;

/** One day's (or the range's) figures from rollup counts: bands are each click's current verdict. */
export function dayFigures(counts: RollupCounts, averageCpc: number | null): DayFigures {
  const invalid = counts.labels.FRAUD;
  return {
    clicks: counts.clicks,
    clean: counts.labels.CLEAN,
    suspicious: counts.labels.SUSPICIOUS,
    invalid,
    invalidShare: share(invalid, counts.clicks),
    wastedSpend: averageCpc === null ? null : money(invalid * averageCpc),
  };
}
