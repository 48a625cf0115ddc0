import { fnv1a } from '../fnv1a';
import { type ClickFacts, subnetOf } from './facts';

/**
 * Velocity counters. Fixed windows miss bursts that straddle a boundary, so every "within T" counter
 * is a pair of windows of length 2T staggered by T: any interval of length ≤ T lies wholly inside one
 * of them, and the engine reads the larger of the pair. A counter therefore reports ≥ the clicks of
 * any T-long burst and at most the clicks of a 2T span; rule thresholds are set with that in mind.
 *
 * The window's bucket number is part of the key (and of the attribute name in the counted key's item),
 * so an expired window that DynamoDB has not deleted yet can never be counted into a new one.
 * Unbucketed counters (gclid, token uses) rely on the store treating `expiresAt <= now` as absent.
 */
export type CounterName =
  | 'ip_1m'
  | 'ip_1h'
  | 'ip_1d'
  | 'subnet_1h'
  | 'visitor_1h'
  | 'visitor_ips_1d'
  | 'ip_visitors_1h'
  | 'gclid'
  | 'ip_campaign_1d'
  | 'token_uses'
  | ActorClicks
  | ActorConversions;

/**
 * Lifetime statistics of one actor (the address, its /24 or /64, the visitor), kept in the actor's own item
 * while it stays active (ACTOR_TTL_SECONDS past its last click): `n`, its clicks, ADDed by the click path's
 * existing UpdateItem and returned with it; `conv`, its trusted conversions, ADDed by the conversion scorer.
 */
type ActorClicks = 'ip_clicks' | 'subnet_clicks' | 'visitor_clicks';
type ActorConversions = 'ip_conversions' | 'subnet_conversions' | 'visitor_conversions';
const ACTOR_CLICKS_ATTRIBUTE = 'n';
export const ACTOR_CONVERSIONS_ATTRIBUTE = 'conv';
/**
 * An actor's statistics live this long past its last click (its item's TTL is at least this): a week keeps repeat
 * actors in view, and a month-long backtest of 1M clicks within 1 GiB.
 */
export const ACTOR_TTL_SECONDS = 7 * 86_400;

/**
 * The counters whose windows are bucketed attributes (`<counter>_<offset>_<bucket>` or `<counter>_<bucket>`):
 * a store tells window attributes apart from whatever else the counted key's item holds (a visitor's state).
 */
const WINDOWED: readonly CounterName[] = [
  'ip_1m',
  'ip_1h',
  'ip_1d',
  'subnet_1h',
  'visitor_1h',
  'visitor_ips_1d',
  'ip_visitors_1h',
  'ip_campaign_1d',
];
// The suffix after the bucket: a stagger offset (`ip_1h_0_…` has it before), a campaign slot (`_c<hash>`) or `_overflow`.
const WINDOW_ATTRIBUTE = new RegExp(`^(${WINDOWED.join('|')})_\\d+(_[0-9a-z]+)?$`);

/** True for the name of a bucketed window attribute (never for an item's other attributes). */
export const isWindowAttribute = (name: string): boolean => WINDOW_ATTRIBUTE.test(name);

/**
 * The attribute holding an unbucketed counter (a gclid's or a click token's uses): the same `uses` the
 * gclid and token items keep, so one UpdateItem counts the use and keeps the index.
 */
const USES_ATTRIBUTE = 'uses';

export interface CounterSpec {
  readonly counter: CounterName;
  /** The window's unique name, `VEL#<propertyId>#<counter>#<subject>[#<bucket>]` (in-memory key, backtest). */
  readonly key: string;
  /**
   * The counted key's one item, `VEL#<propertyId>#<family>#<subject>`: every window of that subject (an
   * address's 1-minute, 1-hour and 1-day windows, its visitors, its campaigns) lives in it, so one click
   * costs one UpdateItem per counted key.
   */
  readonly item: string;
  /** The window's attribute in that item; the bucket number is part of the name, so a stale window is never read. */
  readonly attr: string;
  /** The attribute of the same window's previous bucket: removed by the same UpdateItem. */
  readonly previous?: string;
  /** Set-add counters: the member added; the value is the set's size. Absent: a plain +1 counter. */
  readonly member?: string;
  /** An actor's lifetime clicks (`n`): the value its item's trusted conversions (`conv`) are read into. */
  readonly conversions?: ActorConversions;
  /** Epoch seconds at which the item stops counting (the TTL attribute). */
  readonly expiresAt: number;
  /**
   * The counter lives from its first count: later counts do not move `expiresAt` (a gclid is known while its first
   * click is kept, however often it comes back).
   */
  readonly expiryFromFirst?: true;
  /** A window whose subject is the caller's input, kept in one of the item's bounded slots (address × campaign). */
  readonly slot?: CampaignSlot;
}

/**
 * How many campaigns of one address get their own `ip_campaign_1d` window per day. The campaign comes from
 * the caller (a landing page's `campaignid`, a public key's click): without a bound, one address sending a
 * new value per click would grow its item without limit.
 */
export const CAMPAIGN_SLOTS = 8;

/**
 * The day's campaign slots of one address, in the address's own item: a string set of the campaigns holding
 * a slot (`ip_campaign_1d_<day>`), one window per slotted campaign (`ip_campaign_1d_<day>_c<hash>`) and one
 * overflow window (`ip_campaign_1d_<day>_overflow`). A campaign takes a free slot on its first click of the
 * day; once all are taken, every further campaign of that address counts in the shared overflow window for
 * the rest of the day. That is conservative: the overflow holds the clicks of several campaigns, so it reads
 * at least what each of them alone would, and an address that spreads clicks over many campaigns reaches the
 * repeat-campaign threshold sooner, never later. The next day's slots are a new set (the day is in the name):
 * expired slots are freed by the bucket change.
 */
interface CampaignSlot {
  /** The day's set of slotted campaigns: its unique name (in-memory) and its attribute in the item. */
  readonly slotsKey: string;
  readonly slotsAttr: string;
  /** The previous day's set: removed by the same UpdateItem. */
  readonly previousSlotsAttr: string;
  /** This campaign's member of the set (a short hash: the caller's value never becomes an attribute name). */
  readonly campaign: string;
  /** The day's overflow window, shared by the campaigns past the slots. */
  readonly overflowKey: string;
  readonly overflowAttr: string;
  readonly previousOverflowAttr: string;
}

/** The largest new value per counter name over one click's specs. */
export type CounterValues = Readonly<Partial<Record<CounterName, number>>>;

export interface VelocityStore {
  /** Applies every spec in one parallel round and returns the new values. */
  increment(specs: readonly CounterSpec[]): Promise<CounterValues>;
  /**
   * One trusted conversion on each actor counter of `specs` (actorCountersFor) whose item is still live: one
   * write per actor item; an expired or absent actor is not created.
   */
  addConversion(specs: readonly CounterSpec[]): Promise<void>;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
/**
 * A gclid is a duplicate while its first click is kept: the property's retention, 396 days unless it sets
 * `retentionDays` (shared/properties/config.ts; Google keeps a gclid valid for 90 days). The service keeps the count
 * in the first click's own item (shared/store/clicks.ts); this spec is the backtest's.
 */
export const DEFAULT_GCLID_KEEP_DAYS = 396;
/** Replay evidence outlives the token by a day so late replays are still seen. */
const TOKEN_USE_GRACE_SECONDS = DAY;
/** Items live this long past their window so a read at the boundary never races the TTL. */
const GRACE_SECONDS = 60;

/**
 * Caller-chosen values (visitor ids, campaigns) are hashed before they enter an item: short members keep the
 * returned item small. FNV-1a (32 bit) costs no crypto call per click.
 */
function setMember(value: string): string {
  return fnv1a(value).toString(36);
}

/**
 * The distinct visitors behind an address are counted in 256 buckets (a set of at most 256 one- or two-character
 * members): the visitor id is the caller's input, and a public-key caller sending a new one on every click would
 * otherwise grow the address's item — and the write units of every click from it — without limit. The rules read
 * the count only up to 25 (the carrier-NAT factor's cap), where colliding visitors undercount by ~1: the limits are
 * relaxed a little less, never more.
 */
export const VISITOR_BUCKETS = 256;

function visitorBucket(visitorId: string): string {
  return (fnv1a(visitorId) % VISITOR_BUCKETS).toString(36);
}

export function velocityCountersFor(
  facts: ClickFacts,
  nowMs: number,
  gclidKeepDays: number = DEFAULT_GCLID_KEEP_DAYS,
): CounterSpec[] {
  const nowSec = Math.floor(nowMs / 1000);
  const base = `VEL#${facts.propertyId}#`;
  const specs: CounterSpec[] = [];
  if (facts.ipVersion !== 0) {
    const ipItem = `${base}ip#${facts.ip}`;
    pushActor(specs, base, ipItem, 'ip_clicks', facts.ip, nowSec);
    pushStaggered(specs, base, ipItem, 'ip_1m', facts.ip, MINUTE, nowSec);
    pushStaggered(specs, base, ipItem, 'ip_1h', facts.ip, HOUR, nowSec);
    pushStaggered(specs, base, ipItem, 'ip_1d', facts.ip, DAY, nowSec);
    if (facts.subnet !== undefined) {
      pushActor(specs, base, `${base}net#${facts.subnet}`, 'subnet_clicks', facts.subnet, nowSec);
      pushStaggered(specs, base, `${base}net#${facts.subnet}`, 'subnet_1h', facts.subnet, HOUR, nowSec);
    }
    if (facts.campaign !== undefined) specs.push(campaignWindow(base, ipItem, facts.ip, facts.campaign, nowSec));
  }
  if (facts.visitorId !== undefined) {
    const visitorItem = `${base}vis#${facts.visitorId}`;
    pushActor(specs, base, visitorItem, 'visitor_clicks', facts.visitorId, nowSec);
    pushStaggered(specs, base, visitorItem, 'visitor_1h', facts.visitorId, HOUR, nowSec);
    if (facts.ipVersion !== 0) {
      pushSingle(specs, base, visitorItem, 'visitor_ips_1d', facts.visitorId, DAY, nowSec, facts.ip);
      pushSingle(
        specs,
        base,
        `${base}ip#${facts.ip}`,
        'ip_visitors_1h',
        facts.ip,
        HOUR,
        nowSec,
        visitorBucket(facts.visitorId),
      );
    }
  }
  if (facts.gclid !== undefined) {
    const key = `${base}gclid#${facts.gclid}`;
    specs.push({
      counter: 'gclid',
      key,
      item: key,
      attr: USES_ATTRIBUTE,
      expiresAt: nowSec + gclidKeepDays * DAY,
      expiryFromFirst: true,
    });
  }
  const token = facts.token;
  if (token !== undefined && token.status !== 'invalid') {
    const key = `${base}token_uses#${token.payload.tokenId}`;
    specs.push({
      counter: 'token_uses',
      key,
      item: key,
      attr: USES_ATTRIBUTE,
      expiresAt: token.payload.expiresAt + TOKEN_USE_GRACE_SECONDS,
    });
  }
  return specs;
}

const ACTOR_CONVERSIONS: Readonly<Record<ActorClicks, ActorConversions>> = {
  ip_clicks: 'ip_conversions',
  subnet_clicks: 'subnet_conversions',
  visitor_clicks: 'visitor_conversions',
};

/** An actor's lifetime click counter (`n` in its item), whose item also reports its conversions. */
function pushActor(
  specs: CounterSpec[],
  base: string,
  item: string,
  counter: ActorClicks,
  subject: string,
  nowSec: number,
): void {
  specs.push({
    counter,
    key: `${base}${counter}#${subject}`,
    item,
    attr: ACTOR_CLICKS_ATTRIBUTE,
    conversions: ACTOR_CONVERSIONS[counter],
    expiresAt: nowSec + ACTOR_TTL_SECONDS,
  });
}

/**
 * The actor counters a click counted (its address and /24 or /64 when the address parses, its visitor when
 * the client sent a visitor id): where its trusted conversion is counted. Same keys as velocityCountersFor.
 */
export function actorCountersFor(
  propertyId: string,
  ip: string,
  visitorId: string | undefined,
  nowMs: number,
): CounterSpec[] {
  const { version, subnet } = subnetOf(ip);
  const nowSec = Math.floor(nowMs / 1000);
  const base = `VEL#${propertyId}#`;
  const specs: CounterSpec[] = [];
  if (version !== 0) {
    pushActor(specs, base, `${base}ip#${ip}`, 'ip_clicks', ip, nowSec);
    if (subnet !== undefined) pushActor(specs, base, `${base}net#${subnet}`, 'subnet_clicks', subnet, nowSec);
  }
  if (visitorId !== undefined) pushActor(specs, base, `${base}vis#${visitorId}`, 'visitor_clicks', visitorId, nowSec);
  return specs;
}

/** The pair of staggered windows (length 2·span, offsets 0 and span) of one "within span" counter. */
function pushStaggered(
  specs: CounterSpec[],
  base: string,
  item: string,
  counter: CounterName,
  subject: string,
  span: number,
  nowSec: number,
): void {
  const length = 2 * span;
  const first = Math.floor(nowSec / length);
  specs.push({
    counter,
    key: `${base}${counter}#${subject}#${length}:0:${first}`,
    item,
    attr: `${counter}_0_${first}`,
    previous: `${counter}_0_${first - 1}`,
    expiresAt: (first + 1) * length + GRACE_SECONDS,
  });
  const second = Math.floor((nowSec + span) / length);
  specs.push({
    counter,
    key: `${base}${counter}#${subject}#${length}:${span}:${second}`,
    item,
    attr: `${counter}_${span}_${second}`,
    previous: `${counter}_${span}_${second - 1}`,
    expiresAt: (second + 1) * length - span + GRACE_SECONDS,
  });
}

/** The address × campaign day window, in one of the address item's campaign slots (see CampaignSlot). */
function campaignWindow(base: string, item: string, ip: string, campaign: string, nowSec: number): CounterSpec {
  const counter: CounterName = 'ip_campaign_1d';
  const bucket = Math.floor(nowSec / DAY);
  const member = `c${setMember(campaign)}`;
  const name = (day: number, suffix?: string) => `${counter}_${day}${suffix === undefined ? '' : `_${suffix}`}`;
  const key = (subject: string) => `${base}${counter}#${ip}#${subject}#${DAY}:${bucket}`;
  return {
    counter,
    key: key(member),
    item,
    attr: name(bucket, member),
    previous: name(bucket - 1, member),
    expiresAt: (bucket + 1) * DAY + GRACE_SECONDS,
    slot: {
      slotsKey: key('slots'),
      slotsAttr: name(bucket),
      previousSlotsAttr: name(bucket - 1),
      campaign: member,
      overflowKey: key('overflow'),
      overflowAttr: name(bucket, 'overflow'),
      previousOverflowAttr: name(bucket - 1, 'overflow'),
    },
  };
}

function pushSingle(
  specs: CounterSpec[],
  base: string,
  item: string,
  counter: CounterName,
  subject: string,
  length: number,
  nowSec: number,
  member: string | undefined,
): void {
  const bucket = Math.floor(nowSec / length);
  const key = `${base}${counter}#${subject}#${length}:${bucket}`;
  const attr = `${counter}_${bucket}`;
  const previous = `${counter}_${bucket - 1}`;
  const expiresAt = (bucket + 1) * length + GRACE_SECONDS;
  // One object either way (a spread to add the member was a second allocation per click).
  specs.push(
    member === undefined
      ? { counter, key, item, attr, previous, expiresAt }
      : { counter, key, item, attr, previous, expiresAt, member },
  );
}

/**
 * Folds per-spec results (same order as the specs) into the per-counter maximum; `conversions[i]`, the
 * actor item's `conv`, is reported under the actor spec's `conversions` name.
 */
export function counterValuesFrom(
  specs: readonly CounterSpec[],
  results: readonly number[],
  conversions?: readonly number[],
): CounterValues {
  const values: Partial<Record<CounterName, number>> = {};
  for (let i = 0; i < specs.length; i++) {
    const name = (specs[i] as CounterSpec).counter;
    const value = results[i] ?? 0;
    const prior = values[name];
    if (prior === undefined || value > prior) values[name] = value;
    const actor = (specs[i] as CounterSpec).conversions;
    if (actor !== undefined) values[actor] = conversions?.[i] ?? 0;
  }
  return values;
}

/**
 * What counting `specs` returns when the click is the first of every counted key in its windows (each window and
 * set 1, each actor 1 click and no conversion): the ordinary click, judged before its counts come back
 * (shared/ingestion/clicks.ts stores it in the same round as the counting, and corrects it when they differ).
 */
export function firstCountValues(specs: readonly CounterSpec[]): CounterValues {
  return counterValuesFrom(
    specs,
    specs.map(() => 1),
  );
}
