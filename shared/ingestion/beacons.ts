import { createHash } from 'node:crypto';
import type { StoredClick } from '../decisions';
import { logger } from '../observability';
import type { BehaviourInput } from '../scoring/scoreClick';
import { allWritten } from './clicks';
import { findClick } from './conversions';
import { canonicalJson } from './events';
import type { BeaconMessage } from './messages';
import type { IngestionDeps } from './ports';

export interface BeaconRequest {
  readonly propertyId: string;
  readonly receivedAt: number;
  /** At least one: the click id, else the ad click id or click token of a beacon sent before the answer. */
  readonly clickId?: string;
  readonly gclid?: string;
  readonly clickToken?: string;
  readonly behaviour: BehaviourInput;
}

/**
 * A beacon that names its click only by gclid or token may overtake the click it belongs to (the page
 * sent both at once): it is delivered this much later, and retried while the click may still appear.
 */
export const UNANSWERED_BEACON_DELAY_SECONDS = 5;
/**
 * Two minutes: with the queue's 60 s visibility timeout that is at most three deliveries, well under its
 * maxReceiveCount, so beacons naming a gclid nobody clicked (anyone with the public key can send them) are
 * dropped, not parked in the dead-letter queue.
 */
const CLICK_MAY_APPEAR_MS = 2 * 60_000;

/** POST /v1/click/beacon: nothing but one SQS message, so the answer (204) comes at once. */
export async function acceptBeacon(deps: IngestionDeps, request: BeaconRequest): Promise<void> {
  const ref = request.clickId ?? `gclid:${request.gclid ?? ''}\u0000token:${request.clickToken ?? ''}`;
  const beaconId = createHash('sha256')
    .update(`${request.propertyId}\u0000${ref}\u0000${canonicalJson(request.behaviour)}`)
    .digest('base64url')
    .slice(0, 32);
  const message: BeaconMessage = {
    kind: 'beacon',
    beaconId,
    propertyId: request.propertyId,
    ...(request.clickId !== undefined ? { clickId: request.clickId } : {}),
    ...(request.gclid !== undefined ? { gclid: request.gclid } : {}),
    ...(request.clickToken !== undefined ? { clickToken: request.clickToken } : {}),
    receivedAt: request.receivedAt,
    behaviour: request.behaviour,
  };
  await deps.queues.send(
    'beacons',
    message,
    request.clickId === undefined ? { delaySeconds: UNANSWERED_BEACON_DELAY_SECONDS } : undefined,
  );
}

/** The click is not stored (yet) although the beacon is young enough for it to appear: retry later. */
export class ClickNotYetStoredError extends Error {
  constructor(beaconId: string) {
    super(`beacon ${beaconId}: its click is not stored yet`);
  }
}

/** Page start to the click's arrival at the API (script load, network) and clock skew between the two. */
const DWELL_SLACK_SECONDS = 5;

/**
 * A visit cannot have lasted longer than the time since its click reached the API: a forged beacon
 * claiming ten minutes of reading one second after the click is capped to what was possible.
 */
export function plausibleBehaviour(behaviour: BehaviourInput, msSinceClick: number): BehaviourInput {
  const dwell = behaviour.timeOnPageSeconds;
  if (dwell === undefined) return behaviour;
  const possible = Math.max(0, msSinceClick / 1000) + DWELL_SLACK_SECONDS;
  return dwell <= possible ? behaviour : { ...behaviour, timeOnPageSeconds: Math.round(possible * 10) / 10 };
}

export type ApplyResult = 'applied' | 'duplicate' | 'dropped';

/** A beacon's claim outlives one scorer attempt, and is shorter than the queue's visibility timeout. */
const BEACON_LEASE_MS = 45_000;

/**
 * The beacon scorer's work for one message. Exactly once: the beacon id is claimed; a message seen
 * before (same beacon delivered twice, or sent twice by the browser) changes nothing. The click is
 * re-scored conditionally on its version, moving it between rollup bands in the same transaction;
 * then the visitor's worst score and the address's reputation follow. An unknown click, or another
 * property's, is dropped with a log line (retrying cannot make it appear).
 */
export async function applyBeacon(deps: IngestionDeps, message: BeaconMessage): Promise<ApplyResult> {
  const claimKey = `beacon#${message.beaconId}`;
  const claim = await deps.store.claim(claimKey, deps.now(), BEACON_LEASE_MS);
  if (claim.kind === 'done') return 'duplicate';
  if (claim.kind === 'busy') throw new Error(`beacon ${message.beaconId} is being applied by another delivery`);
  try {
    const result = await rescore(deps, message);
    await deps.store.complete(claimKey, claim.owner, { result }, deps.now());
    return result;
  } catch (error) {
    await deps.store.release(claimKey, claim.owner).catch(() => undefined);
    throw error;
  }
}

async function rescore(deps: IngestionDeps, message: BeaconMessage): Promise<ApplyResult> {
  const property = await deps.properties.get(message.propertyId);
  if (!property) {
    logger.warn('beacon dropped: unknown property', { propertyId: message.propertyId, clickId: message.clickId });
    return 'dropped';
  }
  const clickId = await findClick(deps, property, message);
  if (clickId === undefined) {
    if (message.clickId === undefined && deps.now() - message.receivedAt < CLICK_MAY_APPEAR_MS) {
      throw new ClickNotYetStoredError(message.beaconId);
    }
    logger.warn('beacon dropped: no such click for this property', { propertyId: message.propertyId });
    return 'dropped';
  }
  let found: StoredClick | undefined;
  const result = await deps.decisions.ledger.rescoreClick(clickId, property.timezone, (click) => {
    found = click;
    const signals = click.signals;
    // Another property's click, or a click stored without signals: nothing this beacon may change.
    if (click.propertyId !== message.propertyId || !signals) return undefined;
    // The same beacon applied by an earlier attempt that crashed before completing its claim.
    if (click.beaconAt === message.receivedAt) return undefined;
    const {
      reasons,
      signals: next,
      ...outcome
    } = deps.scoring.rescoreClick(property, signals, {
      behaviour: plausibleBehaviour(message.behaviour, message.receivedAt - click.at),
    });
    // The signals with this behaviour are kept, so a later conversion re-scores from them.
    return { next: outcome, reasons, patch: { beaconAt: message.receivedAt, signals: next } };
  });
  if (!result) {
    if (!found || found.propertyId !== message.propertyId) {
      logger.warn('beacon dropped: no such click for this property', { propertyId: message.propertyId, clickId });
      return 'dropped';
    }
    return 'duplicate';
  }
  const { click, before } = result;
  await allWritten([
    deps.store.touchVisitor({
      visitorId: click.visitorId,
      propertyId: click.propertyId,
      at: message.receivedAt,
      beacon: true,
    }),
    deps.store.rescoreVisitor(click.visitorId, click.propertyId, {
      clickId: click.clickId,
      score: click.current.score,
      reasons: click.reasons,
    }),
    before.score !== click.current.score
      ? deps.decisions.ipReputation.recordIpOutcome({
          propertyId: click.propertyId,
          ip: click.ip,
          at: click.at,
          score: click.current.score,
          reason: click.reasons[0]?.rule ?? 'none',
          previousScore: before.score,
        })
      : undefined,
  ]);
  return 'applied';
}
