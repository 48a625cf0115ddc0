import { conflict, notFound } from '../http/errors';
import { logger } from '../observability';
import { definedOnly } from '../optional';
import { actorCountersFor } from '../scoring/velocity';
import type { StoredClick } from '../store';
import type { ConversionRecord } from '../store/ingestion/store';
import type { ApplyResult } from './beacons';
import { allWritten, loadProperty, sendCount } from './clicks';
import type { ConversionMessage } from './messages';
import type { IngestionDeps, PropertyView } from './ports';

interface ConversionRequest {
  readonly propertyId: string;
  readonly receivedAt: number;
  readonly gclid?: string;
  readonly clickId?: string;
  readonly clickToken?: string;
  readonly value?: number;
  readonly currency?: string;
  readonly orderId?: string;
  readonly eventName?: string;
}

interface ConversionAnswer {
  readonly success: true;
  readonly click_id: string;
  readonly message: string;
}

const NO_CLICK = 'no click with that gclid, click_id or click_token for this property';

/**
 * POST /v1/webhook/conversion. The click is found by `click_id`, `click_token` or `gclid` (in that order
 * of precision); 404 when none is this property's. The conversion and its order id are written in one
 * transaction that fails if either exists (409). Then the conversion is queued for the scorer; if that
 * fails the conversion is forgotten again and the caller gets 5xx, so its retry is not a 409.
 */
export async function acceptConversion(deps: IngestionDeps, request: ConversionRequest): Promise<ConversionAnswer> {
  const property = await loadProperty(deps, request.propertyId);
  const clickId = await findClick(deps, property, request);
  if (!clickId) throw notFound(NO_CLICK);
  const conversion: ConversionRecord = definedOnly({
    clickId,
    propertyId: property.id,
    at: request.receivedAt,
    currency: request.currency ?? property.currency,
    orderId: request.orderId,
    value: request.value,
    eventName: request.eventName,
  });
  const stored = await deps.store.recordConversion(conversion);
  if (!stored.stored) {
    throw stored.conflict === 'click'
      ? conflict('that click already has a conversion', { click_id: clickId })
      : conflict('that order_id was already recorded', { order_id: request.orderId });
  }
  const message: ConversionMessage = definedOnly({
    kind: 'conversion' as const,
    source: 'webhook' as const,
    trusted: true,
    propertyId: property.id,
    receivedAt: request.receivedAt,
    clickId,
    currency: conversion.currency,
    value: request.value,
    orderId: request.orderId,
    eventName: request.eventName,
  });
  try {
    await deps.queues.send('conversions', message);
  } catch (error) {
    await deps.store.forgetConversion(conversion);
    throw error;
  }
  return { success: true, click_id: clickId, message: 'conversion recorded' };
}

/** The property's click named by click id, click token or gclid (in that order). */
export async function findClick(
  deps: IngestionDeps,
  property: PropertyView,
  request: Pick<ConversionRequest, 'clickId' | 'clickToken' | 'gclid' | 'receivedAt'>,
): Promise<string | undefined> {
  if (request.clickId !== undefined) {
    const click = await deps.clickStores.clicks.getClick(request.clickId);
    return click?.propertyId === property.id ? click.clickId : undefined;
  }
  if (request.clickToken !== undefined) {
    const check = await deps.tokens.verify(property.id, request.clickToken, request.receivedAt);
    if (check.status === 'invalid') return undefined;
    const found = await deps.store.findClickByToken(check.payload.tokenId, request.receivedAt);
    return found?.propertyId === property.id ? found.clickId : undefined;
  }
  if (request.gclid !== undefined)
    return deps.clickStores.clicks.findClickByGclid(property.id, request.gclid, request.receivedAt);
  return undefined;
}

const CONVERSION_LEASE_MS = 45_000;

/**
 * The conversion scorer's work for one message, exactly once per converted click (claim on the click
 * id): the click is re-scored with the conversion's trust (moving it between rollup bands), the
 * visitor counts the conversion, and each traffic source of the click counts one conversion for the
 * source-quality snapshot. A conversion sent as an event first finds its click (token, gclid, else the
 * visitor's last click) and records it like the webhook would; one that finds none is dropped with a log.
 */
export async function applyConversion(deps: IngestionDeps, message: ConversionMessage): Promise<ApplyResult> {
  // Anyone holding the public key can claim a conversion: it was counted as an event and teaches nothing.
  // Not even recorded against the click, so it cannot pre-empt the advertiser's own conversion (409).
  if (!message.trusted) {
    logger.info('conversion not applied: untrusted source', {
      propertyId: message.propertyId,
      eventId: message.eventId,
    });
    return 'untrusted';
  }
  const property = await deps.properties.get(message.propertyId);
  if (!property) {
    logger.warn('conversion dropped: unknown property', { propertyId: message.propertyId });
    return 'dropped';
  }
  const clickId = message.source === 'webhook' ? message.clickId : await clickOfEvent(deps, property, message);
  if (!clickId) {
    logger.warn('conversion dropped: no click to attribute it to', {
      propertyId: property.id,
      eventId: message.eventId,
    });
    return 'dropped';
  }
  const claimKey = `conv#${clickId}`;
  const claim = await deps.store.claim(claimKey, deps.now(), CONVERSION_LEASE_MS);
  if (claim.kind === 'done') return 'duplicate';
  if (claim.kind === 'busy') throw new Error(`conversion of ${clickId} is being applied by another delivery`);
  try {
    const result = await rescore(deps, property, clickId, message);
    await deps.store.complete(claimKey, claim.owner, { result }, deps.now());
    return result;
  } catch (error) {
    await deps.store.release(claimKey, claim.owner).catch(() => undefined);
    throw error;
  }
}

async function clickOfEvent(deps: IngestionDeps, property: PropertyView, message: ConversionMessage) {
  let clickId: string | undefined;
  if (message.clickTokenId !== undefined) {
    const found = await deps.store.findClickByToken(message.clickTokenId, message.receivedAt);
    if (found?.propertyId === property.id) clickId = found.clickId;
  }
  if (!clickId && message.gclid !== undefined) {
    clickId = await deps.clickStores.clicks.findClickByGclid(property.id, message.gclid, message.receivedAt);
  }
  if (!clickId && message.visitorId !== undefined) {
    clickId = (await deps.store.getVisitor(property.id, message.visitorId, message.receivedAt))?.lastClickId;
  }
  if (!clickId) return undefined;
  const stored = await deps.store.recordConversion(
    definedOnly({
      clickId,
      propertyId: property.id,
      at: message.receivedAt,
      currency: message.currency,
      orderId: message.orderId,
      value: message.value,
      eventName: message.eventName,
    }),
  );
  // Already converted (by the webhook or an earlier delivery of this event): the claim below decides.
  if (!stored.stored && stored.conflict === 'order') return undefined;
  return clickId;
}

async function rescore(
  deps: IngestionDeps,
  property: PropertyView,
  clickId: string,
  message: ConversionMessage,
): Promise<ApplyResult> {
  let found: StoredClick | undefined;
  const result = await deps.clickStores.ledger.rescoreClick(clickId, (click) => {
    found = click;
    const signals = click.signals;
    if (click.propertyId !== property.id || !signals || click.convertedAt !== undefined) return undefined;
    const { reasons, signals: next, ...outcome } = deps.scoring.rescoreClick(property, signals, { converted: true });
    return { next: outcome, reasons, patch: { convertedAt: message.receivedAt, signals: next } };
  });
  const click = result?.click ?? found;
  if (!click || click.propertyId !== property.id) {
    logger.warn('conversion dropped: no such click for this property', { propertyId: property.id, clickId });
    return 'dropped';
  }
  await allWritten([
    deps.store.touchVisitor({
      visitorId: click.visitorId,
      propertyId: property.id,
      at: message.receivedAt,
      conversion: true,
    }),
    result && result.before.score !== result.click.current.score
      ? deps.store.rescoreVisitor(click.visitorId, property.id, {
          clickId,
          score: result.click.current.score,
        })
      : undefined,
    deps.scoring.recordSourceConversion(property, click),
    // The click's address, /24 or /64 and visitor learn it (trusted conversions only: see the top of applyConversion).
    deps.store.countActorConversion(
      actorCountersFor(property.id, click.ip, click.signals?.visitorCounted ? click.visitorId : undefined, deps.now()),
    ),
    // The click counter moves the click between rollup bands and updates the address's record.
    sendCount(deps, click),
  ]);
  return 'applied';
}
