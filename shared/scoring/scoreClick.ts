import type { Outcome, ReasonEntry } from '../model';
import { definedOnly } from '../optional';
import { ACTOR_WEIGHT_SHARE, actorKeys, learningKeys, visitorsSharing } from './actors';
import { actionFor, botLevelFor, combineWeights, labelFor } from './combine';
import type { EngineConfig } from './config';
import type { ClickFacts } from './facts';
import { CONVERSION_TRUST, RULE_WEIGHTS, type RuleId } from './rules';
import {
  actorEvidence,
  EMPTY_SOURCE_QUALITY,
  type LearnedEvidence,
  learnedEvidence,
  learnedReason,
  RANK_WEIGHT,
  type SourceQuality,
  weightFor,
} from './sourceQuality';
import type { CounterValues } from './velocity';

/** One fired rule with its base weight (before the property's multiplier, so re-scoring honours a new config). */
export interface Signal {
  readonly rule: RuleId;
  readonly weight: number;
  readonly details: string;
}

/** What is stored with a click so beacons, conversions and config changes can re-score it without the request. */
export interface ClickSignals {
  readonly ip: string;
  /** Touch device: little or no pointer movement is normal. */
  readonly mobile: boolean;
  readonly click: readonly Signal[];
  readonly behaviour?: readonly Signal[];
  /** Every beacon so far, merged (see mergeBehaviour): what `behaviour` was derived from. */
  readonly observed?: BehaviourInput;
  readonly converted?: boolean;
  /**
   * The learned-statistics keys this click teaches (its sources under the per-address cap, its repeated-actor
   * levels), fixed at click time so its conversion counts where its click counted. Absent on older clicks.
   */
  readonly learnsFrom?: readonly string[];
  /** The client sent a visitor id: the click counted on its visitor's actor statistics (actorCountersFor). */
  readonly visitorCounted?: true;
}

export interface ClickScore extends Outcome {
  readonly reasons: readonly ReasonEntry[];
  readonly signals: ClickSignals;
}

/** Measured on the landing page (POST /v1/click/beacon). */
export interface BehaviourInput {
  readonly timeOnPageSeconds?: number;
  readonly scrollDepth?: number;
  readonly mouseEntropy?: number;
  readonly honeypot?: boolean;
  readonly touch?: boolean;
}

const maxOf = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * Beacons only add evidence: a honeypot or touch once seen stays (and after a honeypot nothing else
 * changes), dwell and scroll depth take the maximum, and pointer entropy never falls (the snippet sends running totals for the whole visit, so the
 * largest figure is the visit's). No later beacon, forged or not, can erase what an earlier one showed.
 */
export function mergeBehaviour(earlier: BehaviourInput | undefined, later: BehaviourInput): BehaviourInput {
  if (earlier === undefined) return later;
  // After the honeypot the visit is proven automated: what it reports later changes nothing.
  if (earlier.honeypot === true) return earlier;
  const timeOnPageSeconds = maxOf(earlier.timeOnPageSeconds, later.timeOnPageSeconds);
  const scrollDepth = maxOf(earlier.scrollDepth, later.scrollDepth);
  const mouseEntropy = maxOf(earlier.mouseEntropy, later.mouseEntropy);
  const honeypot = later.honeypot === true ? true : (later.honeypot ?? earlier.honeypot);
  const touch = earlier.touch === true || later.touch === true ? true : (later.touch ?? earlier.touch);
  return definedOnly({ timeOnPageSeconds, scrollDepth, mouseEntropy, honeypot, touch });
}

const sig = (rule: RuleId, details: string, weight: number = RULE_WEIGHTS[rule]): Signal => ({ rule, weight, details });

/** Steps of a count rule: the weight of the highest step reached, or 0. */
type Steps = readonly (readonly [atLeast: number, weight: number])[];
function stepWeight(value: number, steps: Steps, scale: number): number {
  let weight = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (value >= step[0] * scale) weight = step[1];
  }
  return weight;
}

const RAPID: Steps = [
  [3, RULE_WEIGHTS.rapid_clicks],
  [5, 0.8],
];
const IP_HOUR: Steps = [
  [4, RULE_WEIGHTS.ip_velocity],
  [6, 0.55],
  [8, 0.75],
];
const IP_DAY: Steps = [
  [12, 0.45],
  [20, 0.6],
];
const SUBNET_HOUR: Steps = [
  [40, RULE_WEIGHTS.subnet_velocity],
  [100, 0.5],
];
const VISITOR_HOUR: Steps = [
  [4, RULE_WEIGHTS.visitor_velocity],
  [6, 0.6],
  [8, 0.75],
];
const VISITOR_IPS: Steps = [
  [4, RULE_WEIGHTS.visitor_many_ips],
  [8, 0.6],
];
const GCLID: Steps = [
  [2, RULE_WEIGHTS.duplicate_gclid],
  [4, 0.7],
];
const CAMPAIGN: Steps = [
  [3, RULE_WEIGHTS.repeat_campaign_click],
  [5, 0.5],
];
const REPLAY: Steps = [
  [2, RULE_WEIGHTS.click_token_replay],
  [3, 0.7],
];
/** Per-address thresholds relax at most this much for a carrier address shared by many visitors. */
const MAX_SHARED_FACTOR = 25;

/**
 * The click-time evidence: IP intelligence, user agent, token, velocity counters (already incremented
 * by this click) and conversion feedback. Pure and allocation-light; called once per click and again by
 * the backtest with a window's final counts.
 */
export function clickSignals(
  facts: ClickFacts,
  counters: CounterValues,
  sources: SourceQuality = EMPTY_SOURCE_QUALITY,
  actors: readonly string[] = actorKeys(facts, counters),
): Signal[] {
  const out: Signal[] = [];
  const intel = facts.intel;
  const hosted = intel?.cloud !== undefined || intel?.datacenter === true;
  if (facts.ipVersion === 0) out.push(sig('bogon_ip', 'not a valid IP address'));
  else if (intel !== undefined) {
    if (intel.cloud !== undefined) {
      const where = intel.cloud.service !== undefined ? ` (${intel.cloud.service})` : '';
      out.push(sig('datacenter_ip', `${intel.cloud.provider} IP range${where}`));
    } else if (intel.datacenter === true) out.push(sig('datacenter_ip', 'hosting/datacenter IP range'));
    if (intel.tor === true) out.push(sig('tor_exit', 'Tor exit node'));
    if (intel.vpn === true) out.push(sig('vpn_ip', 'VPN netblock'));
    if (intel.crawler !== undefined) out.push(sig('crawler_ip', `${intel.crawler.name} crawler range`));
    if (intel.bogon !== undefined) out.push(sig('bogon_ip', `${intel.bogon.range} address`));
  }

  const ua = facts.userAgent;
  if (ua.kind === 'automation') out.push(sig('automation_ua', `automation agent (${ua.match})`));
  else if (ua.kind === 'crawler') out.push(sig('crawler_ua', `declared crawler (${ua.match})`));
  else if (ua.kind === 'missing') out.push(sig('missing_ua', 'no user agent'));
  else if (ua.kind === 'malformed') out.push(sig('malformed_ua', 'malformed user agent'));

  const token = facts.token;
  if (token?.status === 'invalid') out.push(sig('click_token_invalid', `click token ${token.reason} check failed`));
  else if (token?.status === 'expired') out.push(sig('click_token_expired', 'click token expired'));

  // Carrier NAT: many distinct visitors on real mobile browsers behind one address relax per-address limits.
  const visitorsBehindIp = counters.ip_visitors_1h ?? 1;
  const shared =
    ua.kind === 'browser' && ua.mobile && !hosted ? Math.min(MAX_SHARED_FACTOR, Math.max(1, visitorsBehindIp)) : 1;
  const sharedNote = shared > 1 ? `, ${visitorsBehindIp} visitors share the address` : '';

  const ip1m = counters.ip_1m ?? 0;
  const rapid = stepWeight(ip1m, RAPID, shared);
  if (rapid > 0) out.push(sig('rapid_clicks', `${ip1m} clicks in 60s${sharedNote}`, rapid));
  const ip1h = counters.ip_1h ?? 0;
  const ip1d = counters.ip_1d ?? 0;
  const hourly = stepWeight(ip1h, IP_HOUR, shared);
  const daily = stepWeight(ip1d, IP_DAY, shared);
  if (hourly > 0 || daily > 0) {
    const details =
      hourly >= daily ? `${ip1h} clicks from this IP within an hour` : `${ip1d} clicks from this IP within a day`;
    out.push(sig('ip_velocity', details + sharedNote, Math.max(hourly, daily)));
  }
  const subnet = counters.subnet_1h ?? 0;
  const subnetWeight = stepWeight(subnet, SUBNET_HOUR, 1);
  if (subnetWeight > 0)
    out.push(sig('subnet_velocity', `${subnet} clicks from ${facts.subnet} within an hour`, subnetWeight));
  const visitor = counters.visitor_1h ?? 0;
  const visitorWeight = stepWeight(visitor, VISITOR_HOUR, 1);
  if (visitorWeight > 0)
    out.push(sig('visitor_velocity', `${visitor} clicks by this visitor within an hour`, visitorWeight));
  const ips = counters.visitor_ips_1d ?? 0;
  const ipsWeight = stepWeight(ips, VISITOR_IPS, 1);
  if (ipsWeight > 0) out.push(sig('visitor_many_ips', `visitor seen from ${ips} IPs within a day`, ipsWeight));
  const gclid = counters.gclid ?? 0;
  const gclidWeight = stepWeight(gclid, GCLID, 1);
  if (gclidWeight > 0) out.push(sig('duplicate_gclid', `gclid seen ${gclid} times`, gclidWeight));
  const campaign = counters.ip_campaign_1d ?? 0;
  const campaignWeight = stepWeight(campaign, CAMPAIGN, shared);
  if (campaignWeight > 0) {
    out.push(
      sig(
        'repeat_campaign_click',
        `${campaign} clicks on campaign ${facts.campaign} from this IP today`,
        campaignWeight,
      ),
    );
  }
  const uses = counters.token_uses ?? 0;
  const replay = stepWeight(uses, REPLAY, 1);
  if (replay > 0) out.push(sig('click_token_replay', `click token used ${uses} times`, replay));

  if (sources.ranks) {
    const source = learnedEvidence(facts.sources, sources);
    if (source !== undefined) out.push(sig('low_quality_source', learnedReason(source), source.weight));
    const level = learnedEvidence(actors, sources);
    const own = individualEvidence(facts, counters, sources);
    const levelWeight = level === undefined ? 0 : level.weight * ACTOR_WEIGHT_SHARE;
    if (own !== undefined && own.weight > levelWeight) out.push(sig('repeat_actor', learnedReason(own), own.weight));
    else if (level !== undefined) out.push(sig('repeat_actor', learnedReason(level), levelWeight));
  }
  return out;
}

/**
 * The strongest evidence about this very address, /24 or /64 and visitor (their lifetime clicks before this
 * one and trusted conversions, read with this click's counters). A carrier address shared by real mobile
 * browsers says nothing about one of them and is left out; the /24 or /64 only ranks (at most RANK_WEIGHT):
 * clicks sent from one address, with the public key, can weigh against that address and its visitor, never
 * flag its neighbours.
 */
function individualEvidence(
  facts: ClickFacts,
  counters: CounterValues,
  sources: SourceQuality,
): LearnedEvidence | undefined {
  let best = -1;
  let bestWeight = 0;
  // Clicks before this one (the counters include it); the reason's string is built for the winner only.
  const address = visitorsSharing(facts, counters) === 1 ? (counters.ip_clicks ?? 1) - 1 : 0;
  const subnet = (counters.subnet_clicks ?? 1) - 1;
  const visitor = (counters.visitor_clicks ?? 1) - 1;
  if (address > 0) {
    bestWeight = weightFor({ clicks: address, conversions: counters.ip_conversions ?? 0 }, sources);
    best = 0;
  }
  if (subnet > 0) {
    const w = Math.min(
      RANK_WEIGHT,
      weightFor({ clicks: subnet, conversions: counters.subnet_conversions ?? 0 }, sources),
    );
    if (w > bestWeight) [best, bestWeight] = [1, w];
  }
  if (visitor > 0) {
    const w = weightFor({ clicks: visitor, conversions: counters.visitor_conversions ?? 0 }, sources);
    if (w > bestWeight) [best, bestWeight] = [2, w];
  }
  if (bestWeight <= 0) return undefined;
  const evidence =
    best === 0
      ? actorEvidence(`address:${facts.ip}`, address, counters.ip_conversions ?? 0, sources)
      : best === 1
        ? actorEvidence(`subnet:${facts.subnet}`, subnet, counters.subnet_conversions ?? 0, sources)
        : actorEvidence(`visitor:${facts.visitorId}`, visitor, counters.visitor_conversions ?? 0, sources);
  return evidence === undefined ? undefined : { ...evidence, weight: bestWeight };
}

/** Beacon evidence. Touch devices are not expected to move a pointer. */
export function behaviourSignals(behaviour: BehaviourInput, mobile: boolean): Signal[] {
  const out: Signal[] = [];
  if (behaviour.honeypot === true) out.push(sig('honeypot', 'hidden honeypot link clicked'));
  const dwell = behaviour.timeOnPageSeconds;
  if (dwell !== undefined) {
    if (dwell < 1) out.push(sig('short_dwell', `left after ${dwell}s`));
    else if (dwell < 3) out.push(sig('short_dwell', `left after ${dwell}s`, 0.15));
  }
  if (behaviour.scrollDepth === 0) out.push(sig('no_scroll', 'no scrolling'));
  if (behaviour.mouseEntropy === 0 && behaviour.touch !== true && !mobile)
    out.push(sig('no_pointer', 'no pointer movement'));
  return out;
}

const ALLOWLISTED: ReasonEntry = { rule: 'allowlisted', score: 0, details: 'IP is on the property allowlist' };

/** The one place signals become a verdict: multipliers, combiner, conversion trust, bands, actions. */
export function verdictFrom(config: EngineConfig, signals: ClickSignals): ClickScore {
  if (config.allowlist.has(signals.ip)) return outcome(config, 0, [ALLOWLISTED], signals);
  const reasons: ReasonEntry[] = [];
  const weights: number[] = [];
  addSignals(config, signals.click, weights, reasons);
  if (signals.behaviour !== undefined) addSignals(config, signals.behaviour, weights, reasons);
  let score = combineWeights(weights);
  if (signals.converted === true && score > 0) {
    const trust = Math.min(1, CONVERSION_TRUST * (config.ruleWeights.converted ?? 1));
    const lowered = score * trust;
    score -= lowered;
    reasons.push({ rule: 'converted', score: -Math.round(lowered), details: 'visitor converted' });
  }
  reasons.sort(byScoreDescending);
  return outcome(config, Math.round(score), reasons, signals);
}

/** Applies the property's multipliers; a rule weighted to 0 drops out. */
function addSignals(config: EngineConfig, list: readonly Signal[], weights: number[], reasons: ReasonEntry[]): void {
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    const multiplier = config.ruleWeights[s.rule] ?? 1;
    const weight = Math.min(1, s.weight * multiplier);
    if (weight <= 0) continue;
    weights.push(weight);
    reasons.push({ rule: s.rule, score: Math.round(100 * weight), details: s.details });
  }
}

const byScoreDescending = (a: ReasonEntry, b: ReasonEntry): number => b.score - a.score;
const ruleOf = (reason: ReasonEntry): ReasonEntry['rule'] => reason.rule;

function outcome(config: EngineConfig, score: number, reasons: ReasonEntry[], signals: ClickSignals): ClickScore {
  const label = labelFor(score, config.thresholds);
  const botLevel = botLevelFor(score);
  return {
    score,
    label,
    action: actionFor(label, config.monitorOnly),
    botLevel,
    botAction: config.botActions[botLevel],
    rules: reasons.map(ruleOf),
    reasons,
    signals,
  };
}

/** The synchronous verdict of POST /v1/click: facts + the counters this click just incremented. */
export function scoreClick(
  config: EngineConfig,
  facts: ClickFacts,
  counters: CounterValues,
  sources?: SourceQuality,
): ClickScore {
  const actors = actorKeys(facts, counters);
  const ip = facts.ip;
  const mobile = facts.userAgent.mobile;
  const click = clickSignals(facts, counters, sources, actors);
  const learnsFrom = learningKeys(facts, counters, actors);
  return verdictFrom(
    config,
    facts.visitorId === undefined
      ? { ip, mobile, click, learnsFrom }
      : { ip, mobile, click, learnsFrom, visitorCounted: true },
  );
}

/** A beacon adds behaviour (merged with the earlier beacons'), a conversion adds trust; same combiner. */
export function rescoreClick(
  config: EngineConfig,
  signals: ClickSignals,
  update: { readonly behaviour?: BehaviourInput; readonly converted?: boolean },
): ClickScore {
  let next = signals;
  if (update.behaviour !== undefined) {
    const observed = mergeBehaviour(signals.observed, update.behaviour);
    next = { ...next, observed, behaviour: behaviourSignals(observed, signals.mobile) };
  }
  if (update.converted === true) next = { ...next, converted: true };
  return verdictFrom(config, next);
}

/**
 * GET /v1/decision: a visitor is as bad as their worst recent click, and a converted visitor's
 * trust applies to all of them. Undefined when there is no click to judge.
 */
export function scoreVisitor(
  config: EngineConfig,
  recentClicks: readonly ClickSignals[],
  converted = false,
): ClickScore | undefined {
  let worst: ClickScore | undefined;
  for (const click of recentClicks) {
    const verdict = verdictFrom(config, converted ? { ...click, converted: true } : click);
    if (worst === undefined || verdict.score > worst.score) worst = verdict;
  }
  return worst;
}
