import { createHash } from 'node:crypto';
import { conflict, invalidRequest, unauthorized } from '../http/errors';
import { newId } from '../ids';
import type { ClickRecord } from '../model';
import { logger } from '../observability';
import type { CredentialKind } from '../routes';
import type { ClickTokenCheck } from '../tokens';
import { clickAddress } from './address';
import type { IngestionDeps, PropertyView } from './ports';

export interface ClickRequest {
  readonly kind: CredentialKind;
  readonly propertyId: string;
  readonly sourceIp: string;
  /** The `User-Agent` header: used when the body names none. */
  readonly headerUserAgent?: string;
  readonly ip?: string;
  readonly gclid?: string;
  readonly userAgent?: string;
  readonly referrer?: string;
  readonly pageUrl?: string;
  readonly clickToken?: string;
  readonly visitorId?: string;
  /** `Idempotency-Key` header: retries carrying the same key are one click whatever the timing. */
  readonly idempotencyKey?: string;
}

export interface ClickAnswer {
  readonly status: 'clean' | 'suspicious' | 'fraud';
  readonly score: number;
  readonly action: 'allow' | 'flag' | 'block';
  readonly click_id: string;
  readonly visitor_id: string;
  readonly reasons: ClickRecord['reasons'];
}

export async function loadProperty(deps: IngestionDeps, propertyId: string): Promise<PropertyView> {
  const property = await deps.properties.get(propertyId);
  // The credential authenticated, so the property existed a moment ago: it was deleted or disabled since.
  if (!property) throw unauthorized();
  return property;
}

/**
 * POST /v1/click (and `click` events). The hot path: the property's cached config, ONE parallel round of
 * velocity counter ADDs inside scoreClick (token uses and gclid repeats included), the pure engine, then
 * ONE parallel round of writes — the click with its rollup (one transaction), the visitor, the address's
 * reputation, the source statistics and the gclid / token indexes. Any failed write but the statistics' fails
 * the request (5xx, the caller retries):
 * a 200 always means the click is stored.
 *
 * With an `Idempotency-Key` the click id is derived from it: a click already stored under it is answered
 * again (its at-click verdict) without scoring or writing anything, and the click itself is written first,
 * so the loser of two racing attempts writes nothing else. A retry after a failed later write therefore
 * answers the stored click without completing that write.
 */
export async function recordClick(
  deps: IngestionDeps,
  request: ClickRequest,
  /** More writes for the same round (a `click` event's event counter), started with the others. */
  alsoWrite: () => readonly Promise<unknown>[] = () => [],
): Promise<ClickAnswer> {
  const address = clickAddress(request.kind, request.ip, request.sourceIp);
  if (!address) throw invalidRequest('invalid body: ip', { in: 'body', fields: { ip: 'not an IPv4/IPv6 address' } });
  const property = await loadProperty(deps, request.propertyId);
  const at = deps.now();
  const clickId = clickIdFor(property.id, request.idempotencyKey);
  if (request.idempotencyKey !== undefined) {
    const earlier = await deps.decisions.clicks.getClick(clickId);
    if (earlier) return storedAnswer(earlier, property.id);
  }
  const visitorId = request.visitorId ?? newId('vis_');
  const userAgent = request.userAgent ?? request.headerUserAgent;
  const token: ClickTokenCheck | undefined =
    request.clickToken !== undefined ? await deps.tokens.verify(property.id, request.clickToken, at) : undefined;

  const verdict = await deps.scoring.scoreClick(property, {
    propertyId: property.id,
    at,
    ip: address.ip,
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(request.gclid !== undefined ? { gclid: request.gclid } : {}),
    ...(request.pageUrl !== undefined ? { pageUrl: request.pageUrl } : {}),
    ...(request.visitorId !== undefined ? { clientVisitorId: request.visitorId } : {}),
    ...(token !== undefined ? { token } : {}),
  });
  const { reasons, signals, ...outcome } = verdict;
  const tokenPayload = token !== undefined && token.status !== 'invalid' ? token.payload : undefined;
  const record: ClickRecord = {
    clickId,
    propertyId: property.id,
    visitorId,
    at,
    ip: address.ip,
    ...(address.claimedIp !== undefined ? { claimedIp: address.claimedIp } : {}),
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(request.gclid !== undefined ? { gclid: request.gclid } : {}),
    ...(request.referrer !== undefined ? { referrer: request.referrer } : {}),
    ...(request.pageUrl !== undefined ? { pageUrl: request.pageUrl } : {}),
    valueTrack: deps.scoring.valueTrack(request.pageUrl),
    ...(request.clickToken !== undefined ? { clickToken: request.clickToken } : {}),
    ...(tokenPayload !== undefined ? { tokenProvider: tokenPayload.provider } : {}),
    ...(tokenPayload?.campaign !== undefined ? { tokenCampaign: tokenPayload.campaign } : {}),
    atClick: outcome,
    current: outcome,
    reasons,
    signals,
  };

  const otherWrites = () => [
    deps.store.touchVisitor({
      visitorId,
      propertyId: property.id,
      at,
      ip: address.ip,
      click: { clickId, score: outcome.score, reasons },
    }),
    deps.decisions.ipReputation.recordIpOutcome({
      propertyId: property.id,
      ip: address.ip,
      at,
      score: outcome.score,
      reason: reasons[0]?.rule ?? 'none',
    }),
    // Statistics are best effort: the click is stored and answered even when they cannot be written.
    deps.scoring.recordSourceClick(property, record).catch(statisticsNotWritten),
    request.gclid !== undefined ? deps.store.indexGclid(property.id, request.gclid, clickId, at) : undefined,
    tokenPayload !== undefined
      ? deps.store.indexToken(tokenPayload.tokenId, property.id, clickId, at, tokenPayload.expiresAt * 1000)
      : undefined,
    ...alsoWrite(),
  ];
  if (request.idempotencyKey === undefined) {
    await allWritten([deps.decisions.ledger.recordClick(record, property.timezone), ...otherWrites()]);
  } else {
    // The click alone first: when a concurrent attempt with the same key stored it, that attempt's writes
    // count it, and this one answers its verdict and writes nothing more.
    const stored = await deps.decisions.ledger.recordClick(record, property.timezone);
    if (stored === 'duplicate') return storedAnswer(await deps.decisions.clicks.getClick(clickId), property.id);
    await allWritten(otherWrites());
  }

  return answerOf(record);
}

/**
 * The click id: random, or derived from the property and the `Idempotency-Key` (like an event id), so a
 * retried request finds the first attempt's click and another property's key never does.
 */
export function clickIdFor(propertyId: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return newId('clk_');
  const digest = createHash('sha256').update(`${propertyId}\u0000${idempotencyKey}`).digest('base64url');
  return `clk_${digest.slice(0, 27)}`;
}

function answerOf(click: ClickRecord): ClickAnswer {
  return {
    status: click.atClick.label.toLowerCase() as ClickAnswer['status'],
    score: click.atClick.score,
    action: click.atClick.action.toLowerCase() as ClickAnswer['action'],
    click_id: click.clickId,
    visitor_id: click.visitorId,
    reasons: click.reasons,
  };
}

/** A retry's answer: the stored click's at-click verdict. */
function storedAnswer(click: ClickRecord | undefined, propertyId: string): ClickAnswer {
  // Not readable yet right after a racing attempt's write: the caller retries, as for a busy event.
  if (!click) throw conflict('this click is being recorded by an earlier request; retry shortly');
  if (click.propertyId !== propertyId) throw conflict('this Idempotency-Key belongs to another click');
  return answerOf(click);
}

function statisticsNotWritten(error: unknown): void {
  logger.warn('source statistics not written', { error: error instanceof Error ? error.name : String(error) });
}

/** Waits for every write of a round (none left running behind an error), then fails with the first error. */
export async function allWritten(writes: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
