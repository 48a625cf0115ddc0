import { createHash } from 'node:crypto';
import { conflict } from '../http/errors';
import { newId } from '../ids';
import { logger } from '../observability';
import { definedOnly } from '../optional';
import type { CredentialKind } from '../routes';
import { clickAddress } from './address';
import { acceptBeacon } from './beacons';
import { allWritten, idempotencyScope, loadProperty, recordClick } from './clicks';
import type { ConversionMessage } from './messages';
import type { IngestionDeps, PropertyView } from './ports';

interface EventRequest {
  readonly kind: CredentialKind;
  readonly propertyId: string;
  readonly sourceIp: string;
  readonly headerUserAgent?: string;
  /** `Idempotency-Key` header: retries carrying the same key are one event whatever the timing. */
  readonly idempotencyKey?: string;
  readonly receivedAt: number;
  readonly body: {
    readonly type: 'page_view' | 'click' | 'conversion';
    readonly url?: string;
    readonly referrer?: string;
    readonly visitorId?: string;
    readonly gclid?: string;
    readonly click_token?: string;
    readonly ip?: string;
    readonly data?: Readonly<Record<string, unknown>>;
  };
}

interface EventAnswer {
  readonly success: true;
  readonly eventId: string;
  readonly visitorId: string;
}

/** How long one attempt may hold an event before a retry may take it over (a crashed attempt). */
const EVENT_LEASE_MS = 30_000;
/** Without an Idempotency-Key, identical events within this window are one event. */
const EVENT_DEDUP_WINDOW_MS = 60_000;

/**
 * The event id is derived, not random, so a retried request finds the first attempt:
 * from the `Idempotency-Key` header when sent, else from the event's content, the caller's address
 * and the minute it arrived. `ip`, `visitorId`… all take part, so distinct events never collide.
 * The property and the credential kind scope it: a public-key caller can never read or pre-empt the
 * record of a secret-key call (see `idempotencyScope`).
 */
function eventIdFor(request: EventRequest): string {
  const basis =
    request.idempotencyKey !== undefined
      ? `key\u0000${request.idempotencyKey}`
      : `body\u0000${request.sourceIp}\u0000${Math.floor(request.receivedAt / EVENT_DEDUP_WINDOW_MS)}\u0000${canonicalJson(request.body)}`;
  const digest = createHash('sha256')
    .update(`${idempotencyScope(request.propertyId, request.kind)}\u0000${basis}`)
    .digest('base64url');
  return `evt_${digest.slice(0, 27)}`;
}

/**
 * POST /v1/events. Stored exactly once: the event id is claimed first (conditional write); a retry of
 * an event already recorded answers the first answer again and writes nothing; a retry while the first
 * attempt still runs answers 409 (retry shortly); an attempt that fails releases its claim and answers
 * 5xx, so the caller's retry records the event in full.
 */
export async function recordEvent(deps: IngestionDeps, request: EventRequest): Promise<EventAnswer> {
  const eventId = eventIdFor(request);
  const claimKey = `evt#${request.propertyId}#${eventId}`;
  const claim = await deps.store.claim(claimKey, deps.now(), EVENT_LEASE_MS);
  if (claim.kind === 'done') {
    return { success: true, eventId, visitorId: String(claim.result.visitorId) };
  }
  if (claim.kind === 'busy')
    throw conflict('this event is being recorded by an earlier request; retry shortly', { eventId });
  try {
    const answer = await processEvent(deps, request, eventId);
    await deps.store.complete(claimKey, claim.owner, { visitorId: answer.visitorId, ...answer.extra }, deps.now());
    return { success: true, eventId, visitorId: answer.visitorId };
  } catch (error) {
    await deps.store.release(claimKey, claim.owner).catch((releaseError: unknown) => {
      logger.warn('event claim not released; it expires with its lease', { eventId, error: String(releaseError) });
    });
    throw error;
  }
}

async function processEvent(
  deps: IngestionDeps,
  request: EventRequest,
  eventId: string,
): Promise<{ visitorId: string; extra: Record<string, unknown> }> {
  const { body } = request;
  const data = body.data ?? {};
  const userAgent = typeof data.userAgent === 'string' ? data.userAgent : request.headerUserAgent;
  const property = await loadProperty(deps, request.propertyId);

  if (body.type === 'click') {
    // The event counter is written in the click's own write round, not in a round of its own.
    const answer = await recordClick(
      deps,
      definedOnly({
        kind: request.kind,
        propertyId: request.propertyId,
        sourceIp: request.sourceIp,
        ip: body.ip,
        userAgent,
        gclid: body.gclid,
        referrer: body.referrer,
        pageUrl: body.url,
        clickToken: body.click_token,
        visitorId: body.visitorId,
      }),
      () => [deps.clickStores.rollups.recordEvent(property.id, property.timezone, request.receivedAt)],
    );
    return { visitorId: answer.visitor_id, extra: { clickId: answer.click_id } };
  }

  const visitorId = body.visitorId ?? newId('vis_');
  const address = clickAddress(request.kind, body.ip, request.sourceIp) ?? { ip: request.sourceIp };
  const at = request.receivedAt;
  if (body.type === 'page_view') {
    const trapped = isHoneypotAddress(body.url);
    await allWritten([
      deps.clickStores.rollups.recordEvent(property.id, property.timezone, at),
      deps.store.touchVisitor({ visitorId, propertyId: property.id, at, ip: address.ip, pageView: true }),
      trapped ? honeypotEvidence(deps, property, address.ip, at) : undefined,
      trapped && (body.gclid !== undefined || body.click_token !== undefined)
        ? acceptBeacon(
            deps,
            definedOnly({
              propertyId: property.id,
              receivedAt: at,
              gclid: body.gclid,
              clickToken: body.click_token,
              behaviour: { honeypot: true },
            }),
          )
        : undefined,
    ]);
    return { visitorId, extra: {} };
  }

  const message: ConversionMessage = definedOnly({
    kind: 'conversion' as const,
    source: 'event' as const,
    trusted: request.kind === 'secret',
    propertyId: property.id,
    receivedAt: at,
    visitorId,
    eventId,
    currency: typeof data.currency === 'string' && /^[A-Z]{3}$/.test(data.currency) ? data.currency : property.currency,
    gclid: body.gclid,
    value: typeof data.value === 'number' ? data.value : undefined,
    orderId: typeof data.order_id === 'string' ? data.order_id : undefined,
    ...(body.click_token !== undefined ? await tokenIdOf(deps, property.id, body.click_token, at) : {}),
  });
  await allWritten([
    deps.queues.send('conversions', message),
    deps.clickStores.rollups.recordEvent(property.id, property.timezone, at),
    deps.store.touchVisitor({ visitorId, propertyId: property.id, at, ip: address.ip }),
  ]);
  return { visitorId, extra: {} };
}

/** The snippet's hidden link leads to the landing URL with this parameter: only automation goes there. */
const HONEYPOT_PARAM = 'cs_hp';

/** A page view of the honeypot address (the snippet reports it, or the site's server for visits without JavaScript). */
function isHoneypotAddress(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    return new URL(url, 'https://landing.invalid').searchParams.get(HONEYPOT_PARAM) === '1';
  } catch {
    return false;
  }
}

/**
 * The address followed the hidden link: it gets the honeypot rule's score in its reputation (the
 * blocklist), through the same engine as a click, so the allowlist and the property's rule weights apply.
 * With the public key the address is the caller's own, so nobody can put someone else's address there.
 */
async function honeypotEvidence(deps: IngestionDeps, property: PropertyView, ip: string, at: number): Promise<void> {
  const verdict = deps.scoring.rescoreClick(
    property,
    { ip, mobile: false, click: [] },
    { behaviour: { honeypot: true } },
  );
  if (verdict.score === 0) return;
  await deps.clickStores.ipReputation.recordIpOutcome({
    propertyId: property.id,
    ip,
    at,
    score: verdict.score,
    reason: verdict.reasons[0]?.rule ?? 'honeypot',
  });
}

async function tokenIdOf(deps: IngestionDeps, propertyId: string, token: string, at: number) {
  const check = await deps.tokens.verify(propertyId, token, at);
  return check.status === 'invalid' ? {} : { clickTokenId: check.payload.tokenId };
}

/** JSON with object keys sorted, so the same event spelled in another key order hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
