import type { ClickSignals } from './scoring/scoreClick';

/**
 * The records the live path writes and reporting reads. The engine (shared/scoring) decides;
 * these are what gets stored of its decisions.
 */
export type Label = 'CLEAN' | 'SUSPICIOUS' | 'FRAUD';
export type Action = 'ALLOW' | 'FLAG' | 'BLOCK';
export type BotLevel = 'low' | 'medium' | 'high' | 'critical';
export type BotAction = 'record_only' | 'flag' | 'challenge' | 'block';

export interface ReasonEntry {
  readonly rule: string;
  readonly score: number;
  readonly details: string;
}

/** What a decision looked like at one moment; rollups move a click between bands by outcome. */
export interface Outcome {
  readonly score: number;
  readonly label: Label;
  readonly action: Action;
  readonly botLevel: BotLevel;
  readonly botAction: BotAction;
  readonly rules: readonly string[];
}

/** Google Ads ValueTrack and UTM parameters parsed from the landing URL. */
export type ValueTrack = Partial<
  Record<
    | 'campaignid'
    | 'adgroupid'
    | 'keyword'
    | 'matchtype'
    | 'network'
    | 'placement'
    | 'device'
    | 'creative'
    | 'utm_source'
    | 'utm_medium'
    | 'utm_campaign'
    | 'utm_term'
    | 'utm_content',
    string
  >
>;

/**
 * A stored click: `pk = CLK#<clickId>`, `sk = CLK`.
 * It also sits in GSI1 for per-property, per-day exports: `gsi1pk = CLKDAY#<propertyId>#<YYYY-MM-DD (UTC)>#<shard>`
 * (shard 0..CLICK_DAY_SHARDS-1, from a hash of the click id) and `gsi1sk = <ISO time>#<clickId>`.
 */
export interface ClickRecord {
  readonly clickId: string;
  readonly propertyId: string;
  readonly visitorId: string;
  /** Epoch milliseconds. */
  readonly at: number;
  /** The address the click is attributed to (source IP, or body `ip` with the secret key). */
  readonly ip: string;
  /** A body `ip` that was not honoured (public key): recorded, never scored. */
  readonly claimedIp?: string;
  readonly userAgent?: string;
  readonly gclid?: string;
  readonly referrer?: string;
  readonly pageUrl?: string;
  readonly valueTrack: ValueTrack;
  readonly clickToken?: string;
  readonly tokenProvider?: string;
  readonly tokenCampaign?: string;
  /** The verdict answered synchronously. */
  readonly atClick: Outcome;
  /** The current verdict (after beacons, conversions, later clicks). */
  readonly current: Outcome;
  readonly reasons: readonly ReasonEntry[];
  /** The engine's signals, so beacons and conversions re-score the click without the request. */
  readonly signals?: ClickSignals;
  readonly beaconAt?: number;
  readonly convertedAt?: number;
}

/** Clicks of one property and day are spread over this many GSI1 partitions. */
export const CLICK_DAY_SHARDS = 16;
