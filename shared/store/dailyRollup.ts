import type { Action, BotAction, BotLevel, Label, Outcome } from '../model';
import { dayInZone } from '../reporting/calendar';
import { type DynamoDBDocumentClient, UpdateCommand } from './aws/dynamodb';
import { BATCH_GET_MAX, batchGet } from './batchGet';

/**
 * Daily rollups: `STAT#<propertyId>#<local day>#<shard>` / `STAT`, one number attribute per counter.
 * A click adds to one random shard of ROLLUP_SHARDS, so a property taking thousands of clicks a second
 * spreads its writes over that many partitions; readers add the shards up (a day costs ROLLUP_SHARDS
 * reads whatever the number of clicks). All counters a click touches change in one UpdateItem.
 *
 * Counter names: `clicks` (scored clicks), `events` (/v1/events), `label:<LABEL>`, `action:<ACTION>`,
 * `level:<bot level>`, `botAction:<bot action>`, `rule:<rule id>` (clicks whose outcome fired that rule).
 * The calibration counters (how each at-click verdict turned out, the per-band conversion rates):
 * `atClick:band:<LABEL>`, `atClick:decile:<0-9>`, `atClick:rule:<rule id>` count each new click once by its
 * at-click outcome (which never changes), and `converted:…` the same keys once when a trusted conversion is
 * recorded for the click — counted in the day of the click, like everything else.
 * A re-score moves the click between buckets: the old outcome's counters go down, the new one's up,
 * in the day of the click (not of the re-score). A single shard may go negative; the sum never does.
 */
export const ROLLUP_SHARDS = 16;

interface OutcomeChange {
  readonly propertyId: string;
  readonly timezone: string;
  /** When the click happened (epoch ms): it decides the day. */
  readonly at: number;
  /** The click's outcome before a re-score; absent for a new click. */
  readonly before?: Outcome;
  readonly after: Outcome;
  readonly isNewClick: boolean;
  /** The click's at-click outcome: with it, a new click adds to the calibration counters. */
  readonly atClick?: Outcome;
  /** A trusted conversion of the click is counted with this change (it was not before). */
  readonly converts?: boolean;
}

export interface RollupCounts {
  clicks: number;
  events: number;
  labels: Record<Label, number>;
  actions: Record<Action, number>;
  levels: Record<BotLevel, number>;
  botActions: Record<BotAction, number>;
  rules: Record<string, number>;
  /** New clicks by at-click outcome: keys `band:<LABEL>`, `decile:<0-9>` (score / 10), `rule:<rule id>`. */
  atClick: Record<string, number>;
  /** The same keys, for the clicks with a trusted conversion. */
  converted: Record<string, number>;
}

export interface RollupStore {
  recordOutcome(change: OutcomeChange): Promise<void>;
  recordEvent(propertyId: string, timezone: string, at: number): Promise<void>;
  /** Counts per requested local day, shards added up; days without traffic are zero. */
  readDays(propertyId: string, days: readonly string[]): Promise<Map<string, RollupCounts>>;
}

const rollupKey = (propertyId: string, day: string, shard: number) => ({
  pk: `STAT#${propertyId}#${day}#${shard}`,
  sk: 'STAT',
});

const outcomeCounters = (outcome: Outcome): string[] => [
  `label:${outcome.label}`,
  `action:${outcome.action}`,
  `level:${outcome.botLevel}`,
  `botAction:${outcome.botAction}`,
  ...[...new Set(outcome.rules)].map((rule) => `rule:${rule}`),
];

/** The calibration keys of an at-click outcome: its band, its score decile and each rule it fired. */
const calibrationKeys = (atClick: Outcome): string[] => [
  `band:${atClick.label}`,
  `decile:${scoreDecile(atClick.score)}`,
  ...[...new Set(atClick.rules)].map((rule) => `rule:${rule}`),
];

/** 0 for scores 0–9, …, 9 for 90–100 (the backtest's deciles). */
const scoreDecile = (score: number): number => Math.max(0, Math.min(9, Math.floor(score / 10)));

/** The counter increments of one change, zeros dropped (an unchanged re-score changes nothing). */
export function rollupDelta(
  change: Pick<OutcomeChange, 'before' | 'after' | 'isNewClick' | 'atClick' | 'converts'>,
): Map<string, number> {
  const delta = new Map<string, number>();
  const add = (name: string, amount: number) => delta.set(name, (delta.get(name) ?? 0) + amount);
  if (change.isNewClick) add('clicks', 1);
  if (change.atClick) {
    const keys = calibrationKeys(change.atClick);
    if (change.isNewClick) for (const key of keys) add(`atClick:${key}`, 1);
    if (change.converts) for (const key of keys) add(`converted:${key}`, 1);
  }
  if (change.before) for (const name of outcomeCounters(change.before)) add(name, -1);
  for (const name of outcomeCounters(change.after)) add(name, 1);
  for (const [name, amount] of delta) if (amount === 0) delta.delete(name);
  return delta;
}

export const randomShard = (): number => Math.floor(Math.random() * ROLLUP_SHARDS);

/** The UpdateItem adding a delta to one shard; shared with the atomic ledger (index.ts). */
export function rollupUpdate(propertyId: string, day: string, shard: number, delta: ReadonlyMap<string, number>) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const adds: string[] = [];
  let i = 0;
  for (const [name, amount] of delta) {
    names[`#c${i}`] = name;
    values[`:c${i}`] = amount;
    adds.push(`#c${i} :c${i}`);
    i++;
  }
  return {
    Key: rollupKey(propertyId, day, shard),
    UpdateExpression: `ADD ${adds.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export function emptyCounts(): RollupCounts {
  return {
    clicks: 0,
    events: 0,
    labels: { CLEAN: 0, SUSPICIOUS: 0, FRAUD: 0 },
    actions: { ALLOW: 0, FLAG: 0, BLOCK: 0 },
    levels: { low: 0, medium: 0, high: 0, critical: 0 },
    botActions: { record_only: 0, flag: 0, challenge: 0, block: 0 },
    rules: {},
    atClick: {},
    converted: {},
  };
}

/** Adds a stored counter item (or a delta) into `into`. Unknown counter names are ignored. */
export function addCounters(into: RollupCounts, counters: Iterable<[string, unknown]>): RollupCounts {
  const groups = { label: into.labels, action: into.actions, level: into.levels, botAction: into.botActions } as Record<
    string,
    Record<string, number>
  >;
  for (const [name, value] of counters) {
    if (typeof value !== 'number') continue;
    if (name === 'clicks' || name === 'events') {
      into[name] += value;
      continue;
    }
    const colon = name.indexOf(':');
    if (colon < 0) continue;
    const group = name.slice(0, colon);
    const key = name.slice(colon + 1);
    if (group === 'rule') into.rules[key] = (into.rules[key] ?? 0) + value;
    else if (group === 'atClick' || group === 'converted') into[group][key] = (into[group][key] ?? 0) + value;
    else if (groups[group] && key in groups[group]) groups[group][key]! += value;
  }
  return into;
}

export function sumCounts(all: Iterable<RollupCounts>): RollupCounts {
  const total = emptyCounts();
  const addInto = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
  };
  for (const counts of all) {
    total.clicks += counts.clicks;
    total.events += counts.events;
    addInto(total.labels, counts.labels);
    addInto(total.actions, counts.actions);
    addInto(total.levels, counts.levels);
    addInto(total.botActions, counts.botActions);
    addInto(total.rules, counts.rules);
    addInto(total.atClick, counts.atClick);
    addInto(total.converted, counts.converted);
  }
  return total;
}

const READ_CONCURRENCY = 8;

export class DynamoRollupStore implements RollupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordOutcome(change: OutcomeChange): Promise<void> {
    const delta = rollupDelta(change);
    if (delta.size === 0) return;
    const day = dayInZone(change.at, change.timezone);
    await this.client.send(
      new UpdateCommand({ TableName: this.tableName, ...rollupUpdate(change.propertyId, day, randomShard(), delta) }),
    );
  }

  async recordEvent(propertyId: string, timezone: string, at: number): Promise<void> {
    const update = rollupUpdate(propertyId, dayInZone(at, timezone), randomShard(), new Map([['events', 1]]));
    await this.client.send(new UpdateCommand({ TableName: this.tableName, ...update }));
  }

  async readDays(propertyId: string, days: readonly string[]): Promise<Map<string, RollupCounts>> {
    const result = new Map(days.map((day) => [day, emptyCounts()]));
    const keys = days.flatMap((day) => Array.from({ length: ROLLUP_SHARDS }, (_, s) => rollupKey(propertyId, day, s)));
    const batches: (typeof keys)[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) batches.push(keys.slice(i, i + BATCH_GET_MAX));
    const prefix = `STAT#${propertyId}#`;
    const worker = async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        for (const item of await batchGet(this.client, this.tableName, batch, { consistent: false })) {
          const day = String(item.pk).slice(prefix.length, prefix.length + 10);
          const counts = result.get(day);
          if (counts) addCounters(counts, Object.entries(item));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, batches.length) }, worker));
    return result;
  }
}

/** Rollups in a Map (no shards: there is no partition to protect). */
export class MemoryRollupStore implements RollupStore {
  private readonly days = new Map<string, Map<string, number>>();

  async recordOutcome(change: OutcomeChange): Promise<void> {
    this.apply(change.propertyId, dayInZone(change.at, change.timezone), rollupDelta(change));
  }

  async recordEvent(propertyId: string, timezone: string, at: number): Promise<void> {
    this.apply(propertyId, dayInZone(at, timezone), new Map([['events', 1]]));
  }

  async readDays(propertyId: string, days: readonly string[]): Promise<Map<string, RollupCounts>> {
    return new Map(
      days.map((day) => [day, addCounters(emptyCounts(), this.days.get(`${propertyId}#${day}`) ?? new Map())]),
    );
  }

  apply(propertyId: string, day: string, delta: ReadonlyMap<string, number>): void {
    const key = `${propertyId}#${day}`;
    const counters = this.days.get(key) ?? new Map<string, number>();
    for (const [name, amount] of delta) counters.set(name, (counters.get(name) ?? 0) + amount);
    this.days.set(key, counters);
  }
}
