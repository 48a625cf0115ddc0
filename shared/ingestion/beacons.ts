import { createHash } from 'node:crypto';
import type { StoredClick } from '../decisions';
import { logger } from '../observability';
import type { BehaviourInput } from '../scoring/scoreClick';
import { allWritten, sendCount } from './clicks';
import { canonicalJson } from './events';
import type { BeaconMessage } from './messages';
import type { IngestionDeps } from './ports';

export interface BeaconRequest {
  readonly propertyId: string;
  readonly receivedAt: number;
  readonly clickId: string;
  readonly behaviour: BehaviourInput;
}

/** POST /v1/click/beacon: nothing but one SQS message, so the answer (204) comes at once. */
export async function acceptBeacon(deps: IngestionDeps, request: BeaconRequest): Promise<void> {
  const beaconId = createHash('sha256')
    .update(`${request.propertyId}\u0000${request.clickId}\u0000${canonicalJson(request.behaviour)}`)
    .digest('base64url')
    .slice(0, 32);
  const message: BeaconMessage = {
    kind: 'beacon',
    beaconId,
    propertyId: request.propertyId,
    clickId: request.clickId,
    receivedAt: request.receivedAt,
    behaviour: request.behaviour,
  };
  await deps.queues.send('beacons', message);
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
  let found: StoredClick | undefined;
  const result = await deps.decisions.ledger.rescoreClick(message.clickId, (click) => {
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
      behaviour: message.behaviour,
    });
    // The signals with this behaviour are kept, so a later conversion re-scores from them.
    return { next: outcome, reasons, patch: { beaconAt: message.receivedAt, signals: next } };
  });
  const click = result?.click ?? found;
  if (!click || click.propertyId !== message.propertyId) {
    logger.warn('beacon dropped: no such click for this property', {
      propertyId: message.propertyId,
      clickId: message.clickId,
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
          reasons: click.reasons,
        })
      : undefined,
  ]);
  return applied ? 'applied' : 'duplicate';
}
