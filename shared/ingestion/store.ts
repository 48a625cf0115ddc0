import type { ReasonEntry } from '../model';
import type { VisitorState } from './ports';

/**
 * Items the ingestion path owns in the single table (pk / sk):
 *   VIS#<propertyId>#<visitorId> / VIS            visitor state (another property's visitor id is simply unknown)
 *   GCLID#<propertyId>#<gclid> / GCLID            the first click that carried a gclid (conversions find it), `uses`
 *   TOKEN#<tokenId> / TOKEN                       the first click that carried a click token (bot verdict), `uses`
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
  readonly click?: { readonly clickId: string; readonly score: number; readonly reasons: readonly ReasonEntry[] };
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

export interface IngestionStore {
  /** Counts the visit on the visitor (creating it) and raises its worst score if this click is worse. */
  touchVisitor(touch: VisitorTouch): Promise<void>;
  /** After a re-score: sets the visitor's worst score when the click was (or now is) its worst. */
  rescoreVisitor(
    visitorId: string,
    propertyId: string,
    click: { clickId: string; score: number; reasons: readonly ReasonEntry[] },
  ): Promise<void>;
  getVisitor(propertyId: string, visitorId: string, now: number): Promise<VisitorState | undefined>;

  /** The first click that carried the gclid stays indexed; later clicks only count (`uses`). */
  indexGclid(propertyId: string, gclid: string, clickId: string, at: number, retainUntil?: number): Promise<void>;
  findClickByGclid(propertyId: string, gclid: string, now: number): Promise<string | undefined>;
  /** `expiresAt`: the token's own expiry (epoch ms); `retainUntil`: the property's retention (epoch s). */
  indexToken(
    tokenId: string,
    propertyId: string,
    clickId: string,
    at: number,
    expiresAt: number,
    retainUntil?: number,
  ): Promise<void>;
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
