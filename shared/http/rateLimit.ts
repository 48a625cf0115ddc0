import type { Principal } from '../auth/principal';
import { ENV, requireEnv } from '../config/env';
import { logger } from '../observability';
import { findPlan, type Plan } from '../plans';
import type { RouteDef } from '../routes';
import { documentClient } from '../store/clients';
import { DynamoMeterStore, type MeterStore } from '../store/meter';
import { paymentRequired, rateLimited } from './errors';

/**
 * The request meter's policy. Refuse before you count: a public-key call over its source address's
 * limit is refused from memory (no I/O at all), a malformed request is refused by validation
 * (apiHandler), and only then is the request counted against the plan's minute rate, the monthly
 * allowance and per-property limits (the webhook's 100/min), all kept in one item per property, shard
 * and UTC hour (shared/store/meter.ts).
 *
 * Counting is batched per container (`MeterBatching`): far from every cap a container admits from its
 * own view and writes its pending count every N requests or T ms in one small write; near a cap (`exactZone`, and
 * for the first request of each minute it sees) it writes on every request, one conditional write that
 * admits or refuses exactly; a counter the table showed at its cap refuses from memory until its window
 * ends. Refused requests add nothing, so they never spend the minute budget or the allowance. Worst case
 * a container admits N requests from a stale view before its write shows it the shared count: a cap is
 * overshot by at most containers × N (one container alone is exact). Admin calls are not metered. The sum
 * of the month's earlier hours is a read, done once an hour per property by each container.
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
  address: principal.kind === 'public' && route.browser ? { limit: 50, windowSeconds: 5 } : undefined,
  perProperty: route.auth.includes('webhook') ? [{ name: 'webhook', perMinute: 100 }] : [],
});

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

/**
 * Per-container batching. A container counts the requests it admits in memory and writes them to the
 * property's meter item in one `UpdateItem` (ADD, returning the shared counts) every `requests`
 * admitted requests or once the oldest is `maxAgeMs` old, whichever comes first — checked inside a
 * request, since a Lambda container is frozen between invocations. Close to a cap it writes on every
 * request, conditionally (see `exactZone`).
 */
export interface MeterBatching {
  readonly requests: number;
  readonly maxAgeMs: number;
}

/** N = 20 requests, T = 10 s: at steady traffic one small write per 20 requests and per container. */
export const DEFAULT_BATCHING: MeterBatching = { requests: 20, maxAgeMs: 10_000 };

/**
 * A container writes on every request (one conditional write that admits or refuses exactly) while a
 * counter, as it last saw it plus what it holds, is within this many requests of its cap: the largest of
 * 4 × N, a tenth of the cap, and N × the containers it sees counting the same item (`contention`: how much
 * the shared count grew between two of its writes per request it added itself). Each of those holds at
 * most N unseen, so with traffic spread over them the count stays exact; caps up to 4 × N always are.
 */
export const exactZone = (cap: number, batching: MeterBatching, contention = 1): number =>
  Math.max(4 * batching.requests, Math.ceil(cap / 10), Math.ceil(contention * batching.requests));

export interface RateMeterDeps {
  readonly store: MeterStore;
  /** Plan lookup (tests inject tiny plans). */
  readonly plan?: (planId: string) => Plan | undefined;
  readonly limits?: LimitsHook;
  /** Picks a shard in [0, shards): random in the service, fixed in tests. */
  readonly pickShard?: (shards: number) => number;
  /** How many source addresses each instance tracks (oldest forgotten first). */
  readonly maxTrackedAddresses?: number;
  readonly batching?: MeterBatching;
}

export interface RateMeter {
  /** Before validation: 429 for a source address over its limit, from memory. Never writes. */
  refuseAddress(principal: Principal, route: RouteDef, sourceIp: string, nowMs: number): void;
  /** Counts an accepted request (a write every N requests, every request near a cap): 402/429 when refused. */
  meter(principal: Principal, route: RouteDef, nowMs: number): Promise<RateLimitState | undefined>;
  /** The property's last metered state in this instance, for answers refused before metering. */
  lastState(principal: Principal, nowMs: number): RateLimitState | undefined;
}

/** An error after metering keeps the property's rate headers (see apiHandler). */
export type MeteredError = Error & { rate?: RateLimitState };

const two = (n: number) => String(n).padStart(2, '0');

/** This container's view of one meter item (one property's shard, one UTC hour). */
interface ItemView {
  readonly pk: string;
  readonly hour: string;
  readonly expiresAt: number;
  /** The item's counts as the table returned them at this container's latest write (they only grow). */
  known: Record<string, number>;
  /** Requests admitted here and not written yet, by attribute. */
  pending: Record<string, number>;
  pendingRequests: number;
  pendingSince: number;
  /** About how many containers count this item: the shared hour total's growth per request this one added. */
  contention: number;
}

type Counts = Readonly<Record<string, number>>;

function addCounts(into: Record<string, number>, counts: Counts): void {
  for (const [name, n] of Object.entries(counts)) into[name] = (into[name] ?? 0) + n;
}

export function createRateMeter(deps: RateMeterDeps): RateMeter {
  const planOf = deps.plan ?? findPlan;
  const limitsOf = deps.limits ?? defaultLimits;
  const pickShard = deps.pickShard ?? ((shards: number) => Math.floor(Math.random() * shards));
  const batching = deps.batching ?? DEFAULT_BATCHING;
  const addresses = new AddressWindows(deps.maxTrackedAddresses);
  /** Admitted requests of the month before the current hour, per meter item key and hour. */
  const monthBefore = new Map<string, { hour: string; total: number }>();
  const views = new Map<string, ItemView>();
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

  /** What a write returned; `added` is what it added (nothing for a refused write). */
  const learn = (view: ItemView, counts: Counts, added: Counts = {}) => {
    const before = view.known.t;
    const own = added.t ?? 0;
    if (before !== undefined && counts.t !== undefined && own > 0) {
      view.contention = Math.max(1, (counts.t - before) / own);
    }
    for (const [name, n] of Object.entries(counts)) view.known[name] = Math.max(view.known[name] ?? 0, n);
  };

  /** Takes the pending counts out of the view (requests arriving meanwhile start a new batch). */
  const takePending = (view: ItemView) => {
    const pending = view.pending;
    view.pending = {};
    view.pendingRequests = 0;
    return pending;
  };

  /**
   * Writes what this container admitted, unconditionally: those requests were answered already, so a
   * failed write fails no request — the counts stay in the view for its next write.
   */
  async function flush(view: ItemView): Promise<void> {
    if (view.pendingRequests === 0) return;
    const requests = view.pendingRequests;
    const pending = takePending(view);
    try {
      const { counts } = await deps.store.add({ pk: view.pk, sk: view.hour, add: pending, expiresAt: view.expiresAt });
      learn(view, counts, pending);
    } catch (error) {
      addCounts(view.pending, pending);
      view.pendingRequests += requests;
      logger.warn('meter write failed; kept for the next one', { error: (error as Error)?.name });
    }
  }

  /** The view of this hour's item; an earlier hour's pending counts are written first. */
  async function viewOf(pk: string, hour: string, nowMs: number): Promise<ItemView> {
    const current = views.get(pk);
    if (current?.hour === hour) return current;
    const view: ItemView = {
      pk,
      hour,
      expiresAt: Math.floor(nowMs / 1000) + METER_LIFETIME_SECONDS,
      known: {},
      pending: {},
      pendingRequests: 0,
      pendingSince: nowMs,
      contention: current?.contention ?? 1,
    };
    views.set(pk, view);
    // A failed write of the previous hour's requests loses at most N − 1 counts, never this request.
    if (current) await flush(current);
    return view;
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
      const propertyId = principal.propertyId;
      const plan = planFor(principal);
      const shards = shardCount(plan.ratePerMinute);
      const iso = new Date(nowMs).toISOString();
      const hour = iso.slice(0, 13);
      const minute = two(new Date(nowMs).getUTCMinutes());
      const reset = windowStart(nowMs, 60) + 60;
      const pk = `METER#${propertyId}#${pickShard(shards)}`;
      const view = await viewOf(pk, hour, nowMs);
      const monthCap = Math.ceil(plan.monthlyAllowance / shards) - (await earlierInMonth(pk, iso.slice(0, 7), hour));
      const extras = limitsOf(principal, route).perProperty;
      const minuteAttr = `m${minute}`;
      const caps: Record<string, number> = {
        t: monthCap,
        [minuteAttr]: Math.ceil(plan.ratePerMinute / shards),
        ...Object.fromEntries(extras.map((extra) => [`${extra.name}${minute}`, Math.ceil(extra.perMinute / shards)])),
      };
      const attributes = Object.keys(caps);
      const seen = (name: string) => (view.known[name] ?? 0) + (view.pending[name] ?? 0);
      const remember = (state: RateLimitState) => {
        last.set(propertyId, state);
        return state;
      };
      const stateNow = () => remember(rateState(plan.ratePerMinute, estimateTotal(seen(minuteAttr), shards), reset));
      const atCap = (name: string) => (view.known[name] ?? 0) >= (caps[name] ?? 0);
      /** The refusal for the first counter the table showed at its cap: month (402), plan rate, property limit. */
      const refusal = (): MeteredError => {
        const rate = stateNow();
        if (monthCap <= 0 || atCap('t')) return Object.assign(paymentRequired('monthly allowance used up'), { rate });
        const extra = extras.find((candidate) => atCap(`${candidate.name}${minute}`));
        const details =
          atCap(minuteAttr) || !extra
            ? { limit: 'plan', ratePerMinute: plan.ratePerMinute }
            : { limit: extra.name, max: extra.perMinute, windowSeconds: 60 };
        return Object.assign(rateLimited(retryAfterSeconds(reset, nowMs), details), { rate });
      };

      // Counts only grow within their window: one the table showed at its cap refuses from memory.
      if (monthCap <= 0 || attributes.some(atCap)) throw refusal();

      const batched = attributes.every(
        (name) =>
          name in view.known && seen(name) + 1 <= caps[name]! - exactZone(caps[name]!, batching, view.contention),
      );
      if (batched) {
        if (view.pendingRequests === 0) view.pendingSince = nowMs;
        addCounts(view.pending, Object.fromEntries(attributes.map((name) => [name, 1])));
        view.pendingRequests += 1;
        const state = stateNow();
        if (view.pendingRequests >= batching.requests || nowMs - view.pendingSince >= batching.maxAgeMs) {
          // This request is admitted already: a failed write keeps the counts for the next one.
          await flush(view);
        }
        return state;
      }

      // Near a cap, or a counter this container has not seen yet: this request and the pending ones in one
      // conditional write that admits or refuses it exactly. A refused request adds nothing.
      const requests = view.pendingRequests;
      const pending = takePending(view);
      const add = { ...pending };
      addCounts(add, Object.fromEntries(attributes.map((name) => [name, 1])));
      let outcome: Awaited<ReturnType<MeterStore['add']>>;
      try {
        outcome = await deps.store.add({ pk, sk: hour, add, caps, expiresAt: view.expiresAt });
      } catch (error) {
        addCounts(view.pending, pending);
        view.pendingRequests += requests;
        throw error;
      }
      if (outcome.applied) {
        learn(view, outcome.counts, add);
        return stateNow();
      }
      // Refused: the requests admitted here before were answered and still count.
      learn(view, outcome.counts);
      addCounts(view.pending, pending);
      view.pendingRequests += requests;
      await flush(view);
      throw refusal();
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
