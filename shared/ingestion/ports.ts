import type { DecisionStores } from '../decisions';
import type { ClickRecord, ReasonEntry, ValueTrack } from '../model';
import type { QueueName } from '../routes';
import type { EngineConfig } from '../scoring/config';
import type { BehaviourInput, ClickScore, ClickSignals } from '../scoring/scoreClick';
import type { ClickTokenCheck } from '../tokens';
import type { IngestionStore } from './store';

/**
 * What the ingestion use cases need from the rest of the system. The use cases import no AWS SDK:
 * `wiring.ts` binds these ports to the engine (shared/scoring), the token code (shared/tokens), the
 * property store, the decisions stores and SQS; tests bind them to the in-memory implementations.
 */

/** A property's effective configuration, as every decision applies it. */
export interface PropertyView {
  readonly id: string;
  readonly currency: string;
  readonly timezone: string;
  /** The engine's view of the property's effective configuration (thresholds, allowlist, monitor-only…). */
  readonly engine: EngineConfig;
}

/** A click as submitted, before scoring. */
export interface ClickSubmission {
  readonly propertyId: string;
  readonly at: number;
  readonly ip: string;
  readonly userAgent?: string;
  readonly gclid?: string;
  readonly pageUrl?: string;
  /** Only a visitor id the client sent (a server-assigned one says nothing about the visitor yet). */
  readonly clientVisitorId?: string;
  readonly token?: ClickTokenCheck;
}

/** A visitor as kept under `VIS#<propertyId>#<visitorId>`. */
export interface VisitorState {
  readonly visitorId: string;
  readonly propertyId: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly clicks: number;
  readonly pageViews: number;
  readonly conversions: number;
  readonly beacons: number;
  readonly lastIp?: string;
  readonly lastClickId?: string;
  /** The visitor's click with the highest current score (the one a decision re-reads). */
  readonly worstClickId?: string;
  readonly worstScore?: number;
  readonly worstReasons?: readonly ReasonEntry[];
}

export interface IpOnlyScore {
  readonly verdict: ClickScore;
  readonly proxy: boolean;
  readonly tor: boolean;
  readonly vpn: boolean;
  readonly crawler: boolean;
  readonly bot: boolean;
}

export interface ScoringPort {
  /** Velocity counters (one parallel round of ADDs, token-use and gclid counters included), then the pure engine. */
  scoreClick(property: PropertyView, click: ClickSubmission): Promise<ClickScore>;
  /** Pure: a stored click's verdict with landing-page behaviour or a conversion added. */
  rescoreClick(
    property: PropertyView,
    signals: ClickSignals,
    update: { readonly behaviour?: BehaviourInput; readonly converted?: boolean },
  ): ClickScore;
  /** Pure: a visitor is as bad as its worst click; a converted visitor's trust applies to all of them. */
  scoreVisitor(property: PropertyView, clicks: readonly ClickSignals[], converted: boolean): ClickScore | undefined;
  /** An address (and user agent) alone, as `GET /v1/ip-check` answers; no state changes. */
  scoreIp(property: PropertyView, ip: string, userAgent: string | undefined): Promise<IpOnlyScore>;
  /** Counts the click for each of its traffic sources (written in the click's write round). */
  recordSourceClick(property: PropertyView, click: ClickRecord): Promise<void>;
  /** Counts one conversion for each traffic source of the click (feeds the source-quality snapshot). */
  recordSourceConversion(property: PropertyView, click: ClickRecord): Promise<void>;
  /** Google Ads ValueTrack / UTM parameters of a landing URL. */
  valueTrack(pageUrl: string | undefined): ValueTrack;
  /** True while no IP-intelligence snapshot could be loaded (verdicts lack that signal). */
  intelDegraded(): boolean;
}

export interface TokenPort {
  issue(
    propertyId: string,
    input: { provider: string; campaign?: string; ttlSeconds: number },
    now: number,
  ): Promise<{ token: string; expiresAt: number }>;
  verify(propertyId: string, token: string, now: number): Promise<ClickTokenCheck>;
}

export interface PropertyPort {
  /** Cached for a short time: the hot path reads it from memory. */
  get(propertyId: string): Promise<PropertyView | undefined>;
}

export interface QueuePort {
  /** `delaySeconds`: the message is not delivered before then (SQS DelaySeconds, at most 900). */
  send(queue: QueueName, message: Record<string, unknown>, options?: { readonly delaySeconds?: number }): Promise<void>;
}

export interface IngestionDeps {
  readonly properties: PropertyPort;
  readonly scoring: ScoringPort;
  readonly tokens: TokenPort;
  readonly decisions: DecisionStores;
  readonly store: IngestionStore;
  readonly queues: QueuePort;
  readonly now: () => number;
}
