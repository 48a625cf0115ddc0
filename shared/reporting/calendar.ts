/**
 * Calendar days in a property's time zone. Rollups are kept per property-local day and the reporting
 * routes take local dates, so "today" and an export's `from`/`to` mean what the advertiser sees.
 * Days are `YYYY-MM-DD` strings; arithmetic on them is done in UTC, where every day has 24 hours.
 */
const DAY_MS = 86_400_000;
const dayFormats = new Map<string, Intl.DateTimeFormat>();
const partFormats = new Map<string, Intl.DateTimeFormat>();

function formatFor(cache: Map<string, Intl.DateTimeFormat>, timeZone: string, options: Intl.DateTimeFormatOptions) {
  let format = cache.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, ...options });
    cache.set(timeZone, format);
  }
  return format;
}

/** The local date of an instant in `timeZone`. */
export function dayInZone(epochMs: number, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return formatFor(dayFormats, timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(epochMs);
}

/** Milliseconds to add to UTC to get local wall-clock time at that instant. */
function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts = formatFor(partFormats, timeZone, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(epochMs);
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const wallClock = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return wallClock - Math.floor(epochMs / 1000) * 1000;
}

/** The first instant of a local day (local midnight, or the first existing minute when DST skips it). */
export function startOfDay(day: string, timeZone: string): number {
  const midnightUtc = parseDay(day);
  let guess = midnightUtc - zoneOffsetMs(midnightUtc, timeZone);
  // The offset at the guess may differ (DST change within the hours between); one correction settles it.
  guess = midnightUtc - zoneOffsetMs(guess, timeZone);
  while (dayInZone(guess, timeZone) < day) guess += 60_000;
  while (dayInZone(guess - 1, timeZone) === day) guess -= 60_000;
  return guess;
}

/** `[fromMs, toMs)` covering the local days `from` to `to`, inclusive. */
export function dayRangeBounds(from: string, to: string, timeZone: string): { fromMs: number; toMs: number } {
  return { fromMs: startOfDay(from, timeZone), toMs: startOfDay(addDays(to, 1), timeZone) };
}

function parseDay(day: string): number {
  const [year, month, date] = day.split('-').map(Number);
  return Date.UTC(year!, month! - 1, date!);
}

export const addDays = (day: string, days: number): string =>
  new Date(parseDay(day) + days * DAY_MS).toISOString().slice(0, 10);

/** Whole days from `from` to `to` (negative when `to` is earlier). */
const daysBetween = (from: string, to: string): number => Math.round((parseDay(to) - parseDay(from)) / DAY_MS);

/** Every day from `from` to `to`, inclusive. */
export function daysFrom(from: string, to: string): string[] {
  const count = daysBetween(from, to);
  return Array.from({ length: Math.max(0, count + 1) }, (_, i) => addDays(from, i));
}

/** True when the string is a real calendar date (the schema only checks the shape). */
const isCalendarDay = (day: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(parseDay(day)) && addDays(day, 0) === day;

type StatsRange = 'today' | '7days' | '30days' | '90days';
const RANGE_DAYS: Record<StatsRange, number> = { today: 1, '7days': 7, '30days': 30, '90days': 90 };

/** The local days of a stats range ending today (today included). */
export function rangeDays(range: StatsRange, nowMs: number, timeZone: string): string[] {
  const today = dayInZone(nowMs, timeZone);
  return daysFrom(addDays(today, 1 - RANGE_DAYS[range]), today);
}

/** Longest range the bot stats and export routes take. */
const MAX_RANGE_DAYS = 366;

/** Bounds of the reporting routes' dates: nothing predates the epoch, and the day after `to` must exist. */
const FIRST_DAY = '1970-01-01';
const LAST_DAY = '9999-12-30';

/** Why a `from`/`to` pair is unusable, or undefined when fine: real days within bounds, from ≤ to, ≤ MAX_RANGE_DAYS. */
export function dateRangeProblem(from: string, to: string): Record<string, string> | undefined {
  if (!isCalendarDay(from)) return { from: 'not a calendar date' };
  if (!isCalendarDay(to)) return { to: 'not a calendar date' };
  // Zone arithmetic needs four-digit years on both sides of the range (Intl drops leading zeros).
  if (from < FIRST_DAY) return { from: `must be ${FIRST_DAY} or later` };
  if (to > LAST_DAY) return { to: `must be ${LAST_DAY} or earlier` };
  const span = daysBetween(from, to) + 1;
  if (span < 1) return { from: 'must not be after to' };
  if (span > MAX_RANGE_DAYS) return { to: `range longer than ${MAX_RANGE_DAYS} days` };
  return undefined;
}
