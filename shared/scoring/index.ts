/**
 * The scoring engine: pure (no AWS imports here). The engine defines the velocity store's port (velocity.ts);
 * its DynamoDB implementation and in-memory twin live with every other store in `shared/store/velocity/`.
 *
 * Live path of POST /v1/click:
 *   const config = engineConfigFrom(storedConfig);          // once per cached config read, not per click
 *   const facts = clickFacts({ propertyId, ip, userAgent, gclid, pageUrl, visitorId, token }, ipIntel);
 *   const counters = await velocityStore.increment(velocityCountersFor(facts, nowMs)); // ONE parallel round
 *   const verdict = scoreClick(config, facts, counters, sourceQuality);               // pure
 *   // store verdict (ClickRecord.atClick/current = verdict outcome, reasons) and verdict.signals
 * Beacon / conversion consumers: rescoreClick(config, storedSignals, { behaviour } | { converted: true }).
 * GET /v1/decision: scoreVisitor(config, recentClickSignals, visitorConverted).
 * Learned source statistics: SourceTally.apply(deltas) / sourceQualityOf(bySlot, totals) → learnedEvidence per click.
 */

export { actorKeys, learningKeys } from './actors';
export { type Allowlist, compileAllowlist } from './allowlist';
export { actionFor, botLevelFor, combineWeights, labelFor } from './combine';
export { type EngineConfig, engineConfigFrom } from './config';
export { type ClickFacts, type ClickInput, clickFacts, parseValueTrack, sourceKeys, subnetOf } from './facts';
export { CONVERSION_TRUST, RULE_WEIGHTS, type RuleId } from './rules';
export {
  type BehaviourInput,
  behaviourSignals,
  type ClickScore,
  type ClickSignals,
  clickSignals,
  mergeBehaviour,
  rescoreClick,
  type Signal,
  scoreClick,
  scoreVisitor,
  verdictFrom,
} from './scoreClick';
export {
  ACTOR_DIMENSIONS,
  DIMENSIONS,
  EMPTY_SOURCE_QUALITY,
  type LearnedEvidence,
  learnedEvidence,
  learnedReason,
  learnedWeight,
  SLOTS_PER_DIMENSION,
  type SourceDelta,
  type SourceQuality,
  type SourceStats,
  SourceTally,
  smoothedRate,
  sourceQualityOf,
  statsKey,
  surpriseDecades,
  tallyDeltas,
} from './sourceQuality';
export { classifyUserAgent, type UserAgentVerdict } from './userAgent';
export {
  ACTOR_TTL_SECONDS,
  actorCountersFor,
  type CounterName,
  type CounterSpec,
  type CounterValues,
  counterValuesFrom,
  DEFAULT_GCLID_KEEP_DAYS,
  type VelocityStore,
  velocityCountersFor,
} from './velocity';
