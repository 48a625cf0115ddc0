import type { ClickFacts } from './facts';
import type { CounterValues } from './velocity';

/**
 * Repeated actors, learned like traffic sources. A click's address, /24 or /64 and visitor are placed in a
 * repeat level by the velocity counters this click just incremented (clicks from the address within a day,
 * from its subnet within an hour, by its visitor within an hour), and each property learns from its own
 * outcomes how clicks at each level convert: `address-repeat:4-5/day` with 0 conversions in 320 clicks where
 * the property converts at 3.8 % is evidence against the next such click, while a property whose customers
 * come back five times before buying learns that too. The key space is a handful of levels per dimension
 * (nothing grows with attacker input) and the keys are stored with the click, so its later conversion
 * counts where its click counted.
 *
 * Learning is also capped per address (the public key is in every landing page, see learningKeys).
 */

/**
 * A repeat level is a population (everyone clicking twice a day here), not one actor: its evidence counts at
 * half the weight of a source's, at most 0.3, so it ranks and adds to other evidence but never flags alone.
 */
export const ACTOR_WEIGHT_SHARE = 0.5;

type Levels = readonly (readonly [atLeast: number, key: string])[];

/** The keys are built once: a click allocates no string for them. */
const levels = (dimension: string, steps: readonly (readonly [number, string])[]): Levels =>
  steps.map(([atLeast, label]) => [atLeast, `${dimension}:${label}`] as const);

const ADDRESS_LEVELS = levels('address-repeat', [
  [1, '1/day'],
  [2, '2/day'],
  [3, '3/day'],
  [4, '4-5/day'],
  [6, '6-9/day'],
  [10, '10+/day'],
]);
const SHARED_ADDRESS = 'address-repeat:shared';
const SUBNET_LEVELS = levels('subnet-repeat', [
  [1, '1/hour'],
  [2, '2-3/hour'],
  [4, '4-9/hour'],
  [10, '10-39/hour'],
  [40, '40+/hour'],
]);
const VISITOR_LEVELS = levels('visitor-repeat', [
  [1, '1/hour'],
  [2, '2/hour'],
  [3, '3/hour'],
  [4, '4+/hour'],
]);

function level(value: number, levels: Levels): string {
  let label = (levels[0] as readonly [number, string])[1];
  for (let i = 1; i < levels.length; i++) {
    const step = levels[i] as readonly [number, string];
    if (value >= step[0]) label = step[1];
  }
  return label;
}

/**
 * Visitors behind the address when it is a carrier address shared by real mobile browsers (then its
 * repeat level says nothing about one actor), else 1. The same test as the velocity rules' relaxation.
 */
export function visitorsSharing(facts: ClickFacts, counters: CounterValues): number {
  const hosted = facts.intel?.cloud !== undefined || facts.intel?.datacenter === true;
  const ua = facts.userAgent;
  return ua.kind === 'browser' && ua.mobile && !hosted ? Math.max(1, counters.ip_visitors_1h ?? 1) : 1;
}

/** The click's repeated-actor keys (`address-repeat:3/day`, `subnet-repeat:1/hour`, `visitor-repeat:2/hour`). */
export function actorKeys(facts: ClickFacts, counters: CounterValues): string[] {
  const keys: string[] = [];
  if (facts.ipVersion !== 0) {
    keys.push(visitorsSharing(facts, counters) > 1 ? SHARED_ADDRESS : level(counters.ip_1d ?? 1, ADDRESS_LEVELS));
    keys.push(level(counters.subnet_1h ?? 1, SUBNET_LEVELS));
  }
  if (facts.visitorId !== undefined) keys.push(level(counters.visitor_1h ?? 1, VISITOR_LEVELS));
  return keys;
}

/**
 * At most this many clicks per address and day teach the traffic-source statistics (times the visitors
 * sharing a carrier address, up to MAX_SHARING). Anyone holding the public key can send clicks tagged with a
 * real placement; from one address they now add at most three a day to it, so dragging a source that
 * converts down to "0 conversions in 650 clicks" takes hundreds of address-days, not one script. The clicks
 * above the cap still teach the repeated-actor levels: that is what they are evidence of.
 */
const LEARNED_CLICKS_PER_ADDRESS_DAY = 3;
const MAX_SHARING = 25;

/**
 * The statistics keys a click teaches: its traffic sources while its address is under the daily cap, and
 * its repeated-actor keys. Stored with the click (ClickSignals.learnsFrom) so its conversion counts in
 * exactly the keys its click counted in.
 */
export function learningKeys(facts: ClickFacts, counters: CounterValues, actors: readonly string[]): string[] {
  const sharing = Math.min(MAX_SHARING, visitorsSharing(facts, counters));
  const underCap = facts.ipVersion !== 0 && (counters.ip_1d ?? 1) <= LEARNED_CLICKS_PER_ADDRESS_DAY * sharing;
  return underCap ? [...facts.sources, ...actors] : [...actors];
}
