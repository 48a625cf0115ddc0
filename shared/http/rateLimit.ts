import type { Principal } from '../auth/principal';
import { ENV, requireEnv } from '../config/env';
import { findPlan, type Plan } from '../plans';
import type { RouteDef } from '../routes';
import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '../store/aws/dynamodb';
import { documentClient } from '../store/clients';
import { paymentRequired, rateLimited } from './errors';

/**
 * The request meter. Refuse before you count: a public-key call over its source address's limit is
 * refused from memory (no I/O at all), a malformed request is refused by validation (apiHandler), and
 * only then is the request counted — in ONE small conditional write that also enforces the plan's
 * minute rate, the monthly allowance and per-property limits (the webhook's 100/min). A request that
 * write refuses adds nothing, so refused requests never spend the minute budget or the allowance.
 * Admin calls are not metered.
 *
 * Item (TTL `expiresAt`): `METER#<propertyId>#<shard>` / `<YYYY-MM-DDTHH>` (UTC hour) with
 *   `t`            requests admitted in that hour (the month's allowance is the sum over its hours)
 *   `m<MM>`        requests admitted in minute MM of that hour (plan rate, X-RateLimit-*)
 *   `<limit><MM>`  per-property limits by minute (e.g. `webhook07`)
 * At most 1 + 60 × (1 + limits) small numbers: well under 1 KB, so one write unit per request.
 * The sum of the month's earlier hours is a read, done once an hour per property by each container.
 */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the current window resets. */
  readonly reset: number;
}

/** One shard takes at most this many requests a minute (DynamoDB's per-partition write rate ≈ 1,000/s). */
export const REQUESTS_PER_SHARD_MINUTE = 6000;
const METER_LIFETIME_SECONDS = 40 * 24 * 3600;

/** A per-minute limit of the property beyond its plan's rate, counted in the meter's own write. */
export interface PropertyMinuteLimit {
  /** Names the limit in the 429's details and its attribute. */
  readonly name: string;
  readonly perMinute: number;
}

/** A limit per source address, kept in each function instance's memory (never a write). */
export interface AddressLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RouteLimits {
  readonly address?: AddressLimit;
  readonly perProperty: readonly PropertyMinuteLimit[];
}

export type LimitsHook = (principal: Principal, route: RouteDef) => RouteLimits;

/**
 * Public-key calls to browser routes: 10 req/s with bursts of 50 per source address, counted as 50
 * per 5-second window (the same average, and a burst of 50 fits). The conversion webhook: 100/min per property.
 */
export const defaultLimits: LimitsHook = (principal, route) => ({
  ...(principal.kind === 'public' && route.browser ? { address: { limit: 50, windowSeconds: 5 } } : {}),
  perProperty: route.auth.includes('webhook') ? [{ name: 'webhook', perMinute: 100 }] : [],
});

/** One request's conditional increment of a property's hour item. */
export interface MeterIncrement {
  readonly pk: string;
  readonly sk: string;
  /** Attribute → the most it may hold before this request (the request is refused at the cap). */
  readonly caps: Readonly<Record<string, number>>;
  readonly expiresAt: number;
}

/** The item's counters after the increment (admitted) or as they stood (refused). */
export interface MeterOutcome {
  readonly admitted: boolean;
  readonly counts: Readonly<Record<string, number>>;
}

/** The meter's storage: DynamoDB in the service, a Map in tests. */
export interface MeterStore {
  /** Adds one to every attribute of `caps` unless one of them is at its cap: one write. */
  increment(input: MeterIncrement): Promise<MeterOutcome>;
  /** Sum of `t` over the items of `pk` whose sort key starts with `prefix` and is below `before` (a read). */
  sumBefore(pk: string, prefix: string, before: string): Promise<number>;
}

export class DynamoMeterStore implements MeterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async increment(input: MeterIncrement): Promise<MeterOutcome> {
    const attributes = Object.keys(input.caps);
    const names = Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name]));
    const values: Record<string, unknown> = { ':one': 1, ':exp': input.expiresAt };
    attributes.forEach((name, i) => {
      values[`:c${i}`] = input.caps[name];
    });
    const key = { pk: input.pk, sk: input.sk };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `ADD ${attributes.map((_, i) => `#a${i} :one`).join(', ')} SET #exp = if_not_exists(#exp, :exp)`,
          ConditionExpression: attributes
            .map((_, i) => `(attribute_not_exists(#a${i}) OR #a${i} < :c${i})`)
            .join(' AND '),
          ExpressionAttributeNames: { ...names, '#exp': 'expiresAt' },
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { admitted: true, counts: countsOf(Attributes, attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The item as it stood; an emulator that does not return it costs one read instead.
      const old = error.Item
        ? Object.fromEntries(Object.entries(error.Item).map(([name, value]) => [name, value.N]))
        : (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key }))).Item;
      return { admitted: false, counts: countsOf(old, attributes) };
    }
  }

  async sumBefore(pk: string, prefix: string, before: string): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ProjectionExpression: 'sk, t',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (String(item.sk) < before) total += Number(item.t ?? 0);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return total;
  }
}

function countsOf(item: Record<string, unknown> | undefined, attributes: readonly string[]): Record<string, number> {
  return Object.fromEntries(attributes.map((name) => [name, Number(item?.[name] ?? 0)]));
}

export class MemoryMeterStore implements MeterStore {
  readonly items = new Map<string, Record<string, number>>();
  /** Writes attempted (admitted or not): what a request costs. */
  writes = 0;

  async increment(input: MeterIncrement): Promise<MeterOutcome> {
    this.writes += 1;
    const key = `${input.pk}\u0000${input.sk}`;
    const item = this.items.get(key) ?? {};
    const attributes = Object.keys(input.caps);
    const counts = countsOf(item, attributes);
    if (attributes.some((name) => (counts[name] ?? 0) >= (input.caps[name] ?? 0))) return { admitted: false, counts };
    for (const name of attributes) item[name] = (item[name] ?? 0) + 1;
    this.items.set(key, item);
    return { admitted: true, counts: countsOf(item, attributes) };
  }

  async sumBefore(pk: string, prefix: string, before: string): Promise<number> {
    let total = 0;
    for (const [key, item] of this.items) {
      const [itemPk, sk = ''] = key.split('\u0000');
      if (itemPk === pk && sk.startsWith(prefix) && sk < before) total += item.t ?? 0;
    }
    return total;
  }
}

/**
 * Per source address, per function instance: a fixed window of attempts in memory. No I/O, so a flood
 * from one address costs no write once refused. Instances do not share counts: on AWS the bound across
 * instances is the stage throttle and the optional WAF rate rule (README, "Floods").
 */
export class AddressWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly maxTracked = 50_000) {}

  /** Counts one attempt; the count in the window including it. */
  hit(subject: string, windowStart: number): number {
    const current = this.windows.get(subject);
    if (current && current.start === windowStart) {
      current.count += 1;
      return current.count;
    }
    if (current) this.windows.delete(subject);
    else if (this.windows.size >= this.maxTracked) this.evictOldest();
    this.windows.set(subject, { start: windowStart, count: 1 });
    return 1;
  }

  private evictOldest(): void {
    const oldest = this.windows.keys().next();
    if (!oldest.done) this.windows.delete(oldest.value);
  }
}

export const shardCount = (ratePerMinute: number): number =>
  Math.max(1, Math.ceil(ratePerMinute / REQUESTS_PER_SHARD_MINUTE));

/**
 * Requests in a window, estimated from one random shard's count: shards are picked uniformly, so
 * count × shards is unbiased (exact with one shard).
 */
export const estimateTotal = (shardValue: number, shards: number): number => shardValue * shards;

export const windowStart = (nowMs: number, windowSeconds: number): number =>
  Math.floor(nowMs / (windowSeconds * 1000)) * windowSeconds;

export function rateState(limit: number, used: number, resetEpochSeconds: number): RateLimitState {
  return { limit, remaining: Math.max(0, limit - used), reset: resetEpochSeconds };
}

/** Whole seconds until a window resets, at least 1 (a `Retry-After: 0` invites a hot loop). */
export const retryAfterSeconds = (resetEpochSeconds: number, nowMs: number): number =>
  Math.max(1, Math.ceil(resetEpochSeconds - nowMs / 1000));

export interface RateMeterDeps {
  readonly store: MeterStore;
  /** Plan lookup (tests inject tiny plans). */
  readonly plan?: (planId: string) => Plan | undefined;
  readonly limits?: LimitsHook;
  /** Picks a shard in [0, shards): random in the service, fixed in tests. */
  readonly pickShard?: (shards: number) => number;
  /** How many source addresses each instance tracks (oldest forgotten first). */
  readonly maxTrackedAddresses?: number;
}

export interface RateMeter {
  /** Before validation: 429 for a source address over its limit, from memory. Never writes. */
  refuseAddress(principal: Principal, route: RouteDef, sourceIp: string, nowMs: number): void;
  /** Counts an accepted request (one write): 402/429 when the plan or a property limit refuses it. */
  meter(principal: Principal, route: RouteDef, nowMs: number): Promise<RateLimitState | undefined>;
  /** The property's last metered state in this instance, for answers refused before metering. */
  lastState(principal: Principal, nowMs: number): RateLimitState | undefined;
}

/** An error after metering keeps the property's rate headers (see apiHandler). */
export type MeteredError = Error & { rate?: RateLimitState };

const two = (n: number) => String(n).padStart(2, '0');

export function createRateMeter(deps: RateMeterDeps): RateMeter {
  const planOf = deps.plan ?? findPlan;
  const limitsOf = deps.limits ?? defaultLimits;
  const pickShard = deps.pickShard ?? ((shards: number) => Math.floor(Math.random() * shards));
  const addresses = new AddressWindows(deps.maxTrackedAddresses);
  /** Admitted requests of the month before the current hour, per meter item key and hour. */
  const monthBefore = new Map<string, { hour: string; total: number }>();
  const last = new Map<string, RateLimitState>();

  const planFor = (principal: Principal) => {
    const plan = principal.planId ? planOf(principal.planId) : undefined;
    if (!plan) throw new Error(`property ${principal.propertyId} is on an unknown plan`);
    return plan;
  };

  async function earlierInMonth(pk: string, month: string, hour: string): Promise<number> {
    const cached = monthBefore.get(pk);
    if (cached?.hour === hour) return cached.total;
    const total = await deps.store.sumBefore(pk, month, hour);
    monthBefore.set(pk, { hour, total });
    return total;
  }

  function lastState(principal: Principal, nowMs: number): RateLimitState | undefined {
    if (principal.kind === 'admin' || !principal.propertyId) return undefined;
    const reset = windowStart(nowMs, 60) + 60;
    const known = last.get(principal.propertyId);
    if (known && known.reset === reset) return known;
    return rateState(planFor(principal).ratePerMinute, 0, reset);
  }

  return {
    lastState,

    refuseAddress(principal, route, sourceIp, nowMs) {
      if (principal.kind === 'admin' || !principal.propertyId) return;
      const limit = limitsOf(principal, route).address;
      if (!limit) return;
      const start = windowStart(nowMs, limit.windowSeconds);
      if (addresses.hit(`${principal.propertyId}\u0000${sourceIp}`, start) <= limit.limit) return;
      throw Object.assign(
        rateLimited(retryAfterSeconds(start + limit.windowSeconds, nowMs), {
          limit: 'source_address',
          max: limit.limit,
          windowSeconds: limit.windowSeconds,
        }),
        { rate: lastState(principal, nowMs) },
      );
    },

    async meter(principal, route, nowMs) {
      if (principal.kind === 'admin' || !principal.propertyId) return undefined;
      const plan = planFor(principal);
      const shards = shardCount(plan.ratePerMinute);
      const iso = new Date(nowMs).toISOString();
      const month = iso.slice(0, 7);
      const hour = iso.slice(0, 13);
      const minute = two(new Date(nowMs).getUTCMinutes());
      const reset = windowStart(nowMs, 60) + 60;
      const pk = `METER#${principal.propertyId}#${pickShard(shards)}`;
      const monthCap = Math.ceil(plan.monthlyAllowance / shards) - (await earlierInMonth(pk, month, hour));
      const fail = (error: MeteredError, used: number) => {
        const state = rateState(plan.ratePerMinute, estimateTotal(used, shards), reset);
        last.set(principal.propertyId!, state);
        return Object.assign(error, { rate: state });
      };
      if (monthCap <= 0) throw fail(paymentRequired('monthly allowance used up'), 0);

      const extras = limitsOf(principal, route).perProperty;
      const minuteAttr = `m${minute}`;
      const caps: Record<string, number> = {
        t: monthCap,
        [minuteAttr]: Math.ceil(plan.ratePerMinute / shards),
        ...Object.fromEntries(extras.map((extra) => [`${extra.name}${minute}`, Math.ceil(extra.perMinute / shards)])),
      };
      const outcome = await deps.store.increment({
        pk,
        sk: hour,
        caps,
        expiresAt: Math.floor(nowMs / 1000) + METER_LIFETIME_SECONDS,
      });
      const used = outcome.counts[minuteAttr] ?? 0;
      if (outcome.admitted) {
        const state = rateState(plan.ratePerMinute, estimateTotal(used, shards), reset);
        last.set(principal.propertyId, state);
        return state;
      }
      if ((outcome.counts.t ?? 0) >= monthCap) throw fail(paymentRequired('monthly allowance used up'), used);
      if (used >= (caps[minuteAttr] ?? 0)) {
        throw fail(
          rateLimited(retryAfterSeconds(reset, nowMs), { limit: 'plan', ratePerMinute: plan.ratePerMinute }),
          used,
        );
      }
      const extra = extras.find(
        (candidate) => (outcome.counts[`${candidate.name}${minute}`] ?? 0) >= (caps[`${candidate.name}${minute}`] ?? 0),
      );
      throw fail(
        rateLimited(retryAfterSeconds(reset, nowMs), {
          limit: extra?.name ?? 'plan',
          max: extra?.perMinute,
          windowSeconds: 60,
        }),
        used,
      );
    },
  };
}

let current: RateMeter | undefined;

function rateMeter(): RateMeter {
  current ??= createRateMeter({ store: new DynamoMeterStore(documentClient, requireEnv(ENV.tableName)) });
  return current;
}

/** Replaces the meter (tests inject tiny plans or in-memory counters). */
export function useRateMeter(meter: RateMeter | undefined): void {
  current = meter;
}

/** Refuses a public-key call over its source address's limit, before anything is validated or counted. */
export function refuseAddress(principal: Principal, route: RouteDef, sourceIp: string, now: number): void {
  rateMeter().refuseAddress(principal, route, sourceIp, now);
}

/** Counts a request that passed validation. */
export function meterRequest(principal: Principal, route: RouteDef, now: number): Promise<RateLimitState | undefined> {
  return rateMeter().meter(principal, route, now);
}

/** Rate headers for an answer refused before metering (validation): the last state this instance knows. */
export function knownRateState(principal: Principal, now: number): RateLimitState | undefined {
  return rateMeter().lastState(principal, now);
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(state.limit),
    'X-RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'X-RateLimit-Reset': String(state.reset),
  };
}
