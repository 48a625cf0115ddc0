import type { VisitorState } from '../../ingestion/ports';
import type { CounterSpec, CounterValues } from '../../scoring/velocity';

/**
 * Items the ingestion path owns in the single table (pk / sk):
 *   VIS#<propertyId>#<visitorId> / VIS            visitor state (another property's visitor id is simply unknown),
 *                                                 and the visitor's velocity windows (`visitor_1h_…`, `visitor_ips_1d_…`)
 *   TOKEN#<tokenId> / TOKEN                       the first click that carried a click token (bot verdict); `uses`
 *                                                 is also the token-replay velocity counter
 *   ORDER#<propertyId>#<orderId> / ORDER          an order id already recorded (409 on a second one)
 *   CONV#<clickId> / CONV                         the click's conversion (409 on a second one)
 *   IDEM#<scope>#<key> / IDEM                     exactly-once claims for events and queue messages
 * Each carries `expiresAt` (TTL); reads treat an expired item as absent.
 */

export interface VisitorTouch {
  readonly visitorId: string;
  readonly propertyId: string;
  readonly at: number;
  /** TTL (epoch seconds): the property's retention; default RETENTION_SECONDS from `at`. */
  readonly expiresAt?: number;
  readonly ip?: string;
  /** A click of the visitor: counted, and it becomes the visitor's last click. */
  readonly clickId?: string;
  readonly pageView?: boolean;
  readonly beacon?: boolean;
  readonly conversion?: boolean;
}

export interface ConversionRecord {
  readonly clickId: string;
  readonly propertyId: string;
  readonly orderId?: string;
  readonly value?: number;
  readonly currency: string;
  readonly eventName?: string;
  readonly at: number;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly owner: string }
  | { readonly kind: 'done'; readonly result: Record<string, unknown> }
  | { readonly kind: 'busy' };

/** The click path's first round: everything known before the verdict, one write per counted key. */
export interface ClickRound {
  readonly propertyId: string;
  readonly clickId: string;
  readonly visitorId: string;
  readonly at: number;
  readonly ip: string;
  /** TTL (epoch seconds) of the visitor and the token's first-click index: the property's retention. */
  readonly retainUntil: number;
  /** A valid click token's id and expiry (epoch ms): the token's first click is indexed. */
  readonly token?: { readonly tokenId: string; readonly expiresAt: number };
  /** The velocity windows to count (shared/scoring/velocity.ts). */
  readonly counters: readonly CounterSpec[];
  /**
   * Counts the click on the visitor in the same writes. False for a click with an Idempotency-Key: its
   * visitor is touched (touchVisitor) only once its click item is stored, so a racing retry counts nothing twice.
   */
  readonly countVisit: boolean;
}

export interface ClickRoundResult {
  readonly counters: CounterValues;
  /** The visitor's worst click score before this click (absent: none yet, or not read in this round). */
  readonly worstScore?: number;
}

export interface IngestionStore {
  /**
   * The click path's one parallel round before the verdict: each counted key's velocity windows, with the
   * visitor's state and the token's first click written into those keys' own items (a gclid is counted by the
   * click's own item: shared/store/clicks.ts).
   */
  countClick(round: ClickRound): Promise<ClickRoundResult>;
  /**
   * One trusted conversion on the converted click's actors (its address, /24 or /64 and, when the client sent
   * it, its visitor; shared/scoring/velocity actorCountersFor): `conv` + 1 on each actor item still live.
   */
  countActorConversion(actors: readonly CounterSpec[]): Promise<void>;
  /** Counts the visit on the visitor (creating it). */
  touchVisitor(touch: VisitorTouch): Promise<void>;
  /**
   * Points the visitor's last click at `to` while it is still `from` (the click round set it to the gclid's own
   * id, and the gclid turned out used before: the click is stored under an id of its own).
   */
  relinkLastClick(visitorId: string, propertyId: string, from: string, to: string): Promise<void>;
  /** Makes the click the visitor's worst one if it scored higher than the worst so far. */
  raiseWorst(visitorId: string, propertyId: string, click: { clickId: string; score: number }): Promise<void>;
  /** After a re-score: sets the visitor's worst score when the click was (or now is) its worst. */
  rescoreVisitor(visitorId: string, propertyId: string, click: { clickId: string; score: number }): Promise<void>;
  getVisitor(propertyId: string, visitorId: string, now: number): Promise<VisitorState | undefined>;

  findClickByToken(
    tokenId: string,
    now: number,
  ): Promise<{ propertyId: string; clickId: string; uses: number } | undefined>;

  /** Stores the conversion and its order id together; `conflict` names what already existed. */
  recordConversion(
    conversion: ConversionRecord,
  ): Promise<{ readonly stored: true } | { readonly stored: false; readonly conflict: 'click' | 'order' }>;
  /** Undoes recordConversion when the conversion could not be queued, so the caller's retry is not a 409. */
  forgetConversion(conversion: ConversionRecord): Promise<void>;

  /**
   * Exactly-once processing: the first caller claims `key` for `leaseMs`; a caller after `complete` gets the
   * stored result; a caller while another holds a live lease gets `busy`. A lease that ran out (the holder
   * crashed) may be claimed again.
   */
  claim(key: string, now: number, leaseMs: number): Promise<ClaimResult>;
  complete(key: string, owner: string, result: Record<string, unknown>, now: number): Promise<void>;
  release(key: string, owner: string): Promise<void>;
}

/** How long ingestion items live (seconds) when no property retention is given (claims, tests). */
export const RETENTION_SECONDS = 100 * 86_400;
