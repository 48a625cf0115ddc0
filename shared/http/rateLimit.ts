import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Principal } from '../auth/principal';
import { ENV, requireEnv } from '../config/env';
import { findPlan, type Plan } from '../plans';
import type { RouteDef } from '../routes';
import { documentClient } from '../storage/clients';
import { paymentRequired, rateLimited } from './errors';

/**
 * The request meter: per property, a per-minute counter (`X-RateLimit-*`, 429 past the plan's rate)
 * and a per-month allowance counter (402 once spent), plus per-route extra limits — all counted in one
 * parallel round of DynamoDB `ADD`s. Admin calls are not metered.
 *
 * Items (TTL `expiresAt`; keys carry the window, so a late TTL deletion never matters):
 *   RATE#<propertyId>#<minute>#<shard> / RATE              requests in one minute
 *   QUOTA#<propertyId>#<YYYY-MM>#<shard> / RATE            requests in one calendar month (UTC)
 *   RATE#<propertyId>#<limit>#<subject>#<window> / RATE     extra limits (source address, webhook)
 */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the current window resets. */
  readonly reset: number;
}

/** One shard takes at most this many requests a minute (DynamoDB's per-partition write rate ≈ 1,000/s). */
export const REQUESTS_PER_SHARD_MINUTE = 6000;
const MONTH_COUNTER_LIFETIME_SECONDS = 40 * 24 * 3600;

/** A limit beyond the plan's, for some routes and credential kinds (issue 4). */
export interface ExtraLimit {
  /** Names the limit in the 429's details. */
  readonly name: string;
  /** Who is counted: a source address, the property, … */
  readonly subject: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

export type LimitsHook = (principal: Principal, route: RouteDef, sourceIp: string) => readonly ExtraLimit[];

/**
 * Public-key calls to browser routes: 10 req/s with bursts of 50 per source address, counted as 50
 * per 5-second window (the same average, and a burst of 50 fits). The conversion webhook: 100/min per property.
 */
export const defaultLimits: LimitsHook = (principal, route, sourceIp) => {
  const limits: ExtraLimit[] = [];
  if (principal.kind === 'public' && route.browser) {
    limits.push({ name: 'source_address', subject: sourceIp, limit: 50, windowSeconds: 5 });
  }
  if (route.auth.includes('webhook')) {
    limits.push({ name: 'webhook', subject: 'all', limit: 100, windowSeconds: 60 });
  }
  return limits;
};

/** Counters that only go up: DynamoDB `ADD` in the service, a Map in tests. */
export interface CounterStore {
  /** Adds one to each counter and answers the new values, in order. */
  increment(counters: readonly { readonly key: string; readonly expiresAt: number }[]): Promise<number[]>;
}

export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async increment(counters: readonly { key: string; expiresAt: number }[]): Promise<number[]> {
    return Promise.all(
      counters.map(async ({ key, expiresAt }) => {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: key, sk: 'RATE' },
            UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
            ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiresAt },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(Attributes?.count ?? 0);
      }),
    );
  }
}

export class MemoryCounterStore implements CounterStore {
  readonly counts = new Map<string, number>();
  async increment(counters: readonly { key: string; expiresAt: number }[]): Promise<number[]> {
    return counters.map(({ key }) => {
      const next = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, next);
      return next;
    });
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

const monthOf = (nowMs: number) => new Date(nowMs).toISOString().slice(0, 7);

export interface RateMeterDeps {
  readonly counters: CounterStore;
  /** Plan lookup (tests inject tiny plans). */
  readonly plan?: (planId: string) => Plan | undefined;
  readonly limits?: LimitsHook;
  /** Picks a shard in [0, shards): random in the service, fixed in tests. */
  readonly pickShard?: (shards: number) => number;
}

export type RateMeter = (
  principal: Principal,
  route: RouteDef,
  sourceIp: string,
  nowMs: number,
) => Promise<RateLimitState | undefined>;

/** An error after metering keeps the property's rate headers (see apiHandler). */
export type MeteredError = Error & { rate?: RateLimitState };

export function createRateMeter(deps: RateMeterDeps): RateMeter {
  const planOf = deps.plan ?? findPlan;
  const limitsOf = deps.limits ?? defaultLimits;
  const pickShard = deps.pickShard ?? ((shards: number) => Math.floor(Math.random() * shards));

  return async (principal, route, sourceIp, nowMs) => {
    if (principal.kind === 'admin' || !principal.propertyId) return undefined;
    const plan = principal.planId ? planOf(principal.planId) : undefined;
    if (!plan) throw new Error(`property ${principal.propertyId} is on an unknown plan`);
    const id = principal.propertyId;
    const shards = shardCount(plan.ratePerMinute);
    const minute = windowStart(nowMs, 60);
    const reset = minute + 60;
    const extras = limitsOf(principal, route, sourceIp);
    const [minuteCount = 0, monthCount = 0, ...extraCounts] = await deps.counters.increment([
      { key: `RATE#${id}#${minute}#${pickShard(shards)}`, expiresAt: reset + 60 },
      {
        key: `QUOTA#${id}#${monthOf(nowMs)}#${pickShard(shards)}`,
        expiresAt: Math.floor(nowMs / 1000) + MONTH_COUNTER_LIFETIME_SECONDS,
      },
      ...extras.map((extra) => {
        const start = windowStart(nowMs, extra.windowSeconds);
        return {
          key: `RATE#${id}#${extra.name}#${extra.subject}#${start}`,
          expiresAt: start + extra.windowSeconds + 60,
        };
      }),
    ]);
    const state = rateState(plan.ratePerMinute, estimateTotal(minuteCount, shards), reset);
    const fail = (error: MeteredError) => Object.assign(error, { rate: state });
    if (estimateTotal(monthCount, shards) > plan.monthlyAllowance) {
      throw fail(paymentRequired('monthly allowance used up'));
    }
    if (estimateTotal(minuteCount, shards) > plan.ratePerMinute) {
      throw fail(rateLimited(retryAfterSeconds(reset, nowMs), { limit: 'plan', ratePerMinute: plan.ratePerMinute }));
    }
    extras.forEach((extra, i) => {
      if ((extraCounts[i] ?? 0) > extra.limit) {
        const extraReset = windowStart(nowMs, extra.windowSeconds) + extra.windowSeconds;
        throw fail(
          rateLimited(retryAfterSeconds(extraReset, nowMs), {
            limit: extra.name,
            max: extra.limit,
            windowSeconds: extra.windowSeconds,
          }),
        );
      }
    });
    return state;
  };
}

let current: RateMeter | undefined;

function rateMeter(): RateMeter {
  current ??= createRateMeter({ counters: new DynamoCounterStore(documentClient, requireEnv(ENV.tableName)) });
  return current;
}

/** Replaces the meter (tests inject tiny plans or in-memory counters). */
export function useRateMeter(meter: RateMeter | undefined): void {
  current = meter;
}

export function meterRequest(
  principal: Principal,
  route: RouteDef,
  sourceIp: string,
  now: number,
): Promise<RateLimitState | undefined> {
  return rateMeter()(principal, route, sourceIp, now);
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(state.limit),
    'X-RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'X-RateLimit-Reset': String(state.reset),
  };
}
