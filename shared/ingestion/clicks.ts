import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { conflict, invalidRequest, unauthorized } from '../http/errors';
import { newId } from '../ids';
import type { ClickRecord } from '../model';
import { definedOnly } from '../optional';
import type { CredentialKind } from '../routes';
import type { ClickSignals } from '../scoring/scoreClick';
import { type CounterValues, firstCountValues } from '../scoring/velocity';
import { ClickVersionConflictError } from '../store/clicks';
import type { ClickRoundResult } from '../store/ingestion/store';
import { gclidClickId } from '../store/keys';
import { ttlAt } from '../store/table';
import type { ClickTokenCheck } from '../tokens';
import { clickAddress } from './address';
import type { CountMessage } from './messages';
import type { ClickSubmission, IngestionDeps, PropertyView } from './ports';

interface ClickRequest {
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

interface ClickAnswer {
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

/** The click counter reads the click this long after the message is sent (the click is written by then). */
const COUNT_DELAY_SECONDS = 2;

/** The click counter's message for a stored click or a changed verdict (shared/ingestion/counting.ts). */
export function sendCount(deps: IngestionDeps, click: { propertyId: string; clickId: string; at: number }) {
  const message: CountMessage = { kind: 'count', propertyId: click.propertyId, clickId: click.clickId, at: click.at };
  return deps.queues.send('counts', message, { delaySeconds: COUNT_DELAY_SECONDS });
}

/**
 * POST /v1/click (and `click` events). The hot path: the property's cached config, then ONE parallel round:
 * the store's click round (one UpdateItem per counted key — address (with its campaigns), /24 or /64, visitor,
 * token — that counts the velocity windows and, in the same write, keeps the visitor's state and the token's
 * first click), the click counter's message and the click itself (one item, no transaction), judged as the
 * first click of each counted key (recordInOneRound). When the counts say otherwise, a second round corrects
 * the stored click before the answer; a FRAUD click that is the visitor's worst so far also raises the visitor's
 * worst score then. Rollups, the blocklist's address records, the visitor's other worst clicks and
 * traffic-source counts are the click counter's, off the request path. Any failed write fails the request
 * (5xx, the caller retries): a 200 always means the click is stored with the verdict answered; a refused click
 * is discarded unless the counter counted it already, and a click never stored is dropped by the counter, so
 * stats count exactly the stored clicks.
 *
 * A click with a gclid is stored under the gclid's own id (shared/store/keys.ts gclidClickId): its conditional
 * PutItem is the duplicate-gclid check, so the gclid costs no write of its own. When the gclid was used before,
 * the put finds its first click there, and the click is judged again with the gclid's uses and stored under an
 * id of its own (recordGclidReuse: three more writes, for duplicates only).
 *
 * With an `Idempotency-Key` the click id is derived from it: a click already stored under it is answered
 * again (its at-click verdict) without scoring or writing anything, and the click itself is written before
 * the visit is counted on the visitor, so the loser of two racing attempts counts no visit. A retry after
 * a failed later write therefore answers the stored click without completing that write.
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
  const keyed = request.idempotencyKey !== undefined;
  const { gclid } = request;
  const clickId = clickIdFor(property.id, request.kind, request.idempotencyKey, gclid);
  if (keyed) {
    const earlier = await deps.clickStores.clicks.getClick(clickId);
    if (earlier) return storedAnswer(earlier, property.id);
  }
  const visitorId = request.visitorId ?? newId('vis_');
  const userAgent = request.userAgent ?? request.headerUserAgent;
  const token: ClickTokenCheck | undefined =
    request.clickToken !== undefined ? await deps.tokens.verify(property.id, request.clickToken, at) : undefined;
  const tokenPayload = token !== undefined && token.status !== 'invalid' ? token.payload : undefined;
  const submission: ClickSubmission = {
    propertyId: property.id,
    at,
    ip: address.ip,
    userAgent,
    gclid,
    pageUrl: request.pageUrl,
    clientVisitorId: request.visitorId,
    token,
  };
  const prepared = await deps.scoring.prepareClick(property, definedOnly(submission));
  const expiresAt = ttlAt(at, property.retentionSeconds);
  // The gclid is counted by the click's own item (shared/store/clicks.ts), not by a window of its own.
  const counters = prepared.counters.filter((spec) => spec.counter !== 'gclid');
  const countRound = () =>
    deps.store.countClick(
      definedOnly({
        propertyId: property.id,
        clickId,
        visitorId,
        at,
        ip: address.ip,
        retainUntil: expiresAt,
        token: tokenPayload && { tokenId: tokenPayload.tokenId, expiresAt: tokenPayload.expiresAt * 1000 },
        counters,
        countVisit: !keyed,
      }),
    );
  /** The click as judged with these counts and the gclid's uses (this one included; the first unless told). */
  const judge: Judge = async (id, values, gclidUses) => {
    const { reasons, signals, ...outcome } = await prepared.judge(
      gclidUses === undefined ? values : { ...values, gclid: gclidUses },
    );
    return definedOnly({
      clickId: id,
      propertyId: property.id,
      visitorId,
      at,
      ip: address.ip,
      claimedIp: address.claimedIp,
      userAgent,
      gclid,
      referrer: request.referrer,
      pageUrl: request.pageUrl,
      valueTrack: deps.scoring.valueTrack(request.pageUrl),
      clickToken: request.clickToken,
      tokenProvider: tokenPayload?.provider,
      tokenCampaign: tokenPayload?.campaign,
      atClick: outcome,
      current: outcome,
      reasons,
      signals,
    });
  };
  // GET /v1/decision judges a visitor by its last and its worst click. The click counter raises the worst
  // one off the request path, seconds later (counting.ts); a FRAUD click raises it here, so a fraudster's
  // next, clean click cannot hide it for those seconds. Clean clicks need no worst click: the last stands for them.
  const raiseWorst = (record: ClickRecord, worstScore: number | undefined) =>
    record.atClick.label === 'FRAUD' && record.atClick.score > (worstScore ?? 0)
      ? deps.store.raiseWorst(visitorId, property.id, { clickId: record.clickId, score: record.atClick.score })
      : undefined;

  if (!keyed) {
    const firstUse = gclid === undefined ? undefined : 1;
    const click: UnkeyedClick = {
      property,
      clickId,
      at,
      gclid,
      visitorId,
      expiresAt,
      countRound,
      asFirstClick: () => judge(clickId, firstCountValues(counters), firstUse),
      withCounts: (values) => judge(clickId, values, firstUse),
      judge,
      raiseWorst,
      alsoWrite,
    };
    const speculate = deps.corrections?.speculate(property.id) !== false;
    return answerOf(await (speculate ? recordInOneRound(deps, click) : recordAfterCounting(deps, click)));
  }

  const [round, keyedGclidUses] = await Promise.all([
    countRound(),
    // A click with its own id leaves its use in the gclid's slot beside the round.
    gclid !== undefined
      ? deps.clickStores.clicks.countGclidUse(property.id, gclid, { clickId, keepUntil: expiresAt }, at)
      : undefined,
    // Sent before the click is written: a click stored without its message could never be counted.
    sendCount(deps, { propertyId: property.id, clickId, at }),
  ]);
  const record = await judge(clickId, round.counters, gclid === undefined ? undefined : (keyedGclidUses ?? 1));
  // The click alone first: when a concurrent attempt with the same key stored it, that attempt's writes
  // count it, and this one answers its verdict and writes nothing more.
  const stored = await deps.clickStores.ledger.recordClick(record, expiresAt);
  if (stored === 'duplicate') return storedAnswer(await deps.clickStores.clicks.getClick(clickId), property.id);
  await allWritten([
    deps.store
      .touchVisitor({ visitorId, propertyId: property.id, at, expiresAt, ip: address.ip, clickId })
      .then(() => raiseWorst(record, round.worstScore)),
    ...alsoWrite(),
  ]);
  return answerOf(record);
}

type Judge = (id: string, values: CounterValues, gclidUses: number | undefined) => Promise<ClickRecord>;

/** A click without an Idempotency-Key, and the steps of its recording. */
interface UnkeyedClick {
  readonly property: PropertyView;
  readonly clickId: string;
  readonly at: number;
  readonly gclid?: string;
  readonly visitorId: string;
  readonly expiresAt: number;
  readonly countRound: () => Promise<ClickRoundResult>;
  /** The click judged as the first of each key it counts (the gclid's first use). */
  readonly asFirstClick: () => Promise<ClickRecord>;
  /** The click judged with its counts (the gclid's first use). */
  readonly withCounts: (values: CounterValues) => Promise<ClickRecord>;
  readonly judge: Judge;
  readonly raiseWorst: (record: ClickRecord, worstScore: number | undefined) => Promise<void> | undefined;
  /** More writes for the click's round (a `click` event's event counter). */
  readonly alsoWrite: () => readonly Promise<unknown>[];
}

/**
 * A click without an Idempotency-Key, in ONE parallel round: the click is judged first as the first click of
 * each counted key in its windows (what an ordinary click is) and stored beside the counting and its count
 * message. When the counts come back it is judged again; only when that verdict differs (a repeat address,
 * /24, visitor or token whose windows matter) does a second round correct the stored click — one conditional
 * write, before the answer, so a click read back after its answer always has the verdict answered.
 *
 * A round that fails leaves no click behind when it can: the click is discarded unless the click counter
 * counted it already (then it stays, stored and counted once, and the caller's retry is a click of its own).
 */
async function recordInOneRound(deps: IngestionDeps, click: UnkeyedClick): Promise<ClickRecord> {
  const { clickId, property } = click;
  const provisional = await click.asFirstClick();
  const counting = click.countRound();
  // Stored under the gclid's own id, the click is the gclid's first use, or finds the gclid used before.
  const stored = deps.clickStores.ledger.recordClick(provisional, click.expiresAt);
  try {
    await allWritten([
      counting,
      stored,
      sendCount(deps, { propertyId: property.id, clickId, at: click.at }),
      ...click.alsoWrite(),
    ]);
  } catch (error) {
    const ours = await stored.then(
      (result) => result === 'stored',
      () => true,
    );
    if (ours) await discard(deps, clickId, click.at);
    throw error;
  }
  const round = await counting;
  if ((await stored) === 'duplicate') return reuseOf(deps, click, round);
  const record = await click.withCounts(round.counters);
  const corrected = !sameVerdict(record, provisional);
  deps.corrections?.record(property.id, corrected);
  let correctionFailed = false;
  const correction = corrected
    ? correctClick(deps, property, record).catch((error: unknown) => {
        correctionFailed = true;
        throw error;
      })
    : undefined;
  try {
    await allWritten([
      correction,
      // The counter may have read the click before its correction: counting is by state, so it counts again.
      corrected ? sendCount(deps, { propertyId: property.id, clickId, at: click.at }) : undefined,
      click.raiseWorst(record, round.worstScore),
    ]);
  } catch (error) {
    // A click whose correction failed keeps a verdict it was not answered: gone, unless already counted.
    if (correctionFailed) await discard(deps, clickId, click.at);
    throw error;
  }
  return record;
}

/**
 * The same click in two rounds, where judging it first would often be corrected (shared/ingestion/speculation.ts):
 * its counting and its count message, then the click (and a FRAUD visitor's worst score) with the counts' verdict.
 */
async function recordAfterCounting(deps: IngestionDeps, click: UnkeyedClick): Promise<ClickRecord> {
  const { clickId, property } = click;
  const [round] = await Promise.all([
    click.countRound(),
    // Sent before the click is written: a click stored without its message could never be counted.
    sendCount(deps, { propertyId: property.id, clickId, at: click.at }),
  ]);
  const record = await click.withCounts(round.counters);
  deps.corrections?.record(property.id, !sameVerdict(record, await click.asFirstClick()));
  const stored = deps.clickStores.ledger.recordClick(record, click.expiresAt);
  const raiseWorst = () => click.raiseWorst(record, round.worstScore);
  await allWritten([
    stored,
    click.gclid === undefined
      ? raiseWorst()
      : stored.then((result) => (result === 'stored' ? raiseWorst() : undefined)),
    ...click.alsoWrite(),
  ]);
  if ((await stored) === 'stored') return record;
  return reuseOf(deps, click, round);
}

/** The click found its gclid's slot taken: stored under an id of its own with the gclid's uses (recordGclidReuse). */
function reuseOf(deps: IngestionDeps, click: UnkeyedClick, round: ClickRoundResult) {
  const reuse = { ...click, propertyId: click.property.id, gclid: click.gclid as string, slot: click.clickId };
  return recordGclidReuse(deps, reuse, async (id, uses) => {
    const record = await click.judge(id, round.counters, uses);
    return { record, raiseWorst: () => click.raiseWorst(record, round.worstScore) };
  });
}

const sameVerdict = (a: ClickRecord, b: ClickRecord): boolean =>
  isDeepStrictEqual(a.atClick, b.atClick) &&
  isDeepStrictEqual(a.reasons, b.reasons) &&
  isDeepStrictEqual(a.signals, b.signals);

/**
 * Sets the stored click's at-click verdict to the one its counts gave: one write conditional on the click being
 * as stored. When a re-score came first (a beacon for a gclid's click, whose id is computable, landing within
 * that moment) the click is re-scored from its corrected at-click signals with what the re-score added.
 */
async function correctClick(deps: IngestionDeps, property: PropertyView, record: ClickRecord): Promise<void> {
  const { atClick, reasons, signals } = record;
  try {
    await deps.clickStores.clicks.updateClickOutcome(record.clickId, atClick, reasons, { atClick, signals }, 1);
    return;
  } catch (error) {
    if (!(error instanceof ClickVersionConflictError)) throw error;
  }
  await deps.clickStores.ledger.rescoreClick(record.clickId, (stored) => {
    const { behaviour, observed, converted } = stored.signals ?? {};
    const merged = definedOnly({ ...signals, behaviour, observed, converted }) as ClickSignals;
    // This correction went through already (its answer was lost): nothing to do.
    if (isDeepStrictEqual(stored.atClick, atClick) && isDeepStrictEqual(stored.signals, merged)) return undefined;
    const { reasons: now, signals: next, ...outcome } = deps.scoring.rescoreClick(property, merged, {});
    return { next: outcome, reasons: now, patch: { atClick, signals: next } };
  });
}

/** Best effort: the request fails with its own error whatever the discard does. */
async function discard(deps: IngestionDeps, clickId: string, at: number): Promise<void> {
  await deps.clickStores.clicks.discardClick(clickId, at).catch(() => false);
}

/**
 * A click whose gclid was used before (the gclid's slot holds another click, or a marker): one more use of the
 * gclid, the click judged again with that count and stored under an id of its own — its count message sent
 * first, as for every click — and the visitor's last click, which the round set to the slot, pointed at it.
 */
async function recordGclidReuse(
  deps: IngestionDeps,
  click: { propertyId: string; gclid: string; visitorId: string; at: number; expiresAt: number; slot: string },
  judge: (
    id: string,
    gclidUses: number,
  ) => Promise<{ record: ClickRecord; raiseWorst: () => Promise<void> | undefined }>,
): Promise<ClickRecord> {
  const clickId = newId('clk_');
  // The slot's put found it taken: the use counts there, no marker.
  const uses = await deps.clickStores.clicks.countGclidUse(click.propertyId, click.gclid, undefined, click.at);
  const { record, raiseWorst } = await judge(clickId, uses);
  await sendCount(deps, { propertyId: click.propertyId, clickId, at: click.at });
  await allWritten([
    deps.clickStores.ledger.recordClick(record, click.expiresAt),
    deps.store.relinkLastClick(click.visitorId, click.propertyId, click.slot, clickId),
    raiseWorst(),
  ]);
  return record;
}

/**
 * The click id: random, or derived from the property, the credential kind and the `Idempotency-Key`
 * (like an event id), so a retried request finds the first attempt's click while another property's
 * key — or the public key of the same property — never does: a browser cannot capture a server's click.
 */
function clickIdFor(
  propertyId: string,
  kind: CredentialKind,
  idempotencyKey: string | undefined,
  gclid: string | undefined,
): string {
  if (idempotencyKey === undefined) return gclid === undefined ? newId('clk_') : gclidClickId(propertyId, gclid);
  const digest = createHash('sha256')
    .update(`${idempotencyScope(propertyId, kind)}\u0000${idempotencyKey}`)
    .digest('base64url');
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

/** The key space of derived click and event ids: one per property and credential kind. */
export function idempotencyScope(propertyId: string, kind: CredentialKind): string {
  return `${propertyId}\u0000${kind}`;
}

/** Waits for every write of a round (none left running behind an error), then fails with the first error. */
export async function allWritten(writes: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
