import { createHash } from 'node:crypto';
import { logger } from '../observability';
import { definedOnly } from '../optional';
import type { BehaviourInput } from '../scoring/scoreClick';
import type { StoredClick } from '../store';
import { allWritten, sendCount } from './clicks';
import { findClick } from './conversions';
import { canonicalJson } from './events';
import type { BeaconMessage } from './messages';
import type { IngestionDeps } from './ports';

interface BeaconRequest {
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
const UNANSWERED_BEACON_DELAY_SECONDS = 5;
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
  const message: BeaconMessage = definedOnly({
    kind: 'beacon' as const,
    beaconId,
    propertyId: request.propertyId,
    clickId: request.clickId,
    gclid: request.gclid,
    clickToken: request.clickToken,
    receivedAt: request.receivedAt,
    behaviour: request.behaviour,
  });
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
function plausibleBehaviour(behaviour: BehaviourInput, msSinceClick: number): BehaviourInput {
  const dwell = behaviour.timeOnPageSeconds;
  if (dwell === undefined) return behaviour;
  const possible = Math.max(0, msSinceClick / 1000) + DWELL_SLACK_SECONDS;
  return dwell <= possible ? behaviour : { ...behaviour, timeOnPageSeconds: Math.round(possible * 10) / 10 };
}

/** `untrusted`: a conversion from a source that may not teach (a public-key event); nothing was changed. */
export type ApplyResult = 'applied' | 'duplicate' | 'dropped' | 'untrusted';

/**
 * The beacon scorer's work for one message, exactly once with no claim: the click is re-scored by ONE
 * UpdateItem conditional on the version read, which is also the guard — a message seen before (delivered
 * twice, or sent twice by the browser) finds its `beaconAt` on the click and writes nothing. Then the
 * click counter is told (it moves the click between rollup bands and updates the address's record), and
 * the visitor is touched only when the click's score changed. Both follow-ups are repeated on a duplicate,
 * since an earlier attempt may have stopped before them; each is harmless twice. An unknown click, or
 * another property's, is dropped with a log line (retrying cannot make it appear).
 */
export async function applyBeacon(deps: IngestionDeps, message: BeaconMessage): Promise<ApplyResult> {
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
  const result = await deps.clickStores.ledger.rescoreClick(clickId, (click) => {
    found = click;
    const signals = click.signals;
    // Another property's click, or a click stored without signals: nothing this beacon may change.
    if (click.propertyId !== message.propertyId || !signals) return undefined;
    // This beacon, applied by an earlier delivery.
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
  const click = result?.click ?? found;
  if (!click || click.propertyId !== message.propertyId) {
    logger.warn('beacon dropped: no such click for this property', {
      propertyId: message.propertyId,
      clickId,
    });
    return 'dropped';
  }
  const applied = result !== undefined;
  if (!applied && click.beaconAt !== message.receivedAt) return 'duplicate';
  const scoreChanged = result ? result.before.score !== result.click.current.score : true;
  await allWritten([
    sendCount(deps, click),
    scoreChanged
      ? deps.store.rescoreVisitor(click.visitorId, click.propertyId, {
          clickId: click.clickId,
          score: click.current.score,
        })
      : undefined,
  ]);
  return applied ? 'applied' : 'duplicate';
}
