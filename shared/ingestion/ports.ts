import type { ClickRecord, ValueTrack } from '../model';
import type { QueueName } from '../routes';
import type { EngineConfig } from '../scoring/config';
import type { BehaviourInput, ClickScore, ClickSignals } from '../scoring/scoreClick';
import type { CounterSpec, CounterValues } from '../scoring/velocity';
import type { ClickStores } from '../store';
import type { IngestionStore } from '../store/ingestion/store';
import type { ClickTokenCheck } from '../tokens';
import type { CorrectionShare } from './speculation';

/**
 * What the ingestion use cases need from the rest of the system. The use cases import no AWS SDK:
 * `wiring.ts` binds these ports to the engine (shared/scoring), the token code (shared/tokens), the
 * property store, the click stores and SQS; tests bind them to the in-memory implementations.
 */

/** A property's effective configuration, as every decision applies it. */
export interface PropertyView {
  readonly id: string;
  readonly currency: string;
  readonly timezone: string;
  /** How long the property's clicks, visitors, address records and indexes are kept (seconds). */
  readonly retentionSeconds: number;
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
}

export interface IpOnlyScore {
  readonly verdict: ClickScore;
  readonly proxy: boolean;
  readonly tor: boolean;
  readonly vpn: boolean;
  readonly crawler: boolean;
  readonly bot: boolean;
}

/** A click's facts, ready to be judged once its velocity windows are counted (by the store's click round). */
interface PreparedClick {
  readonly counters: readonly CounterSpec[];
  /** The pure engine's verdict from the counted values (and the source-quality snapshot read meanwhile). */
  judge(values: CounterValues): Promise<ClickScore>;
}

export interface ScoringPort {
  /** The click's facts and the velocity windows it counts (IP intelligence, the source-quality read started). */
  prepareClick(property: PropertyView, click: ClickSubmission): Promise<PreparedClick>;
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
  /**
   * Counts a batch of new clicks for each of their traffic sources (by the click counter, off the request
   * path: one write per property in the batch; a failure is logged, never fails the stored clicks). Clicks
   * FRAUD at click time are not counted.
   */
  recordSourceClicks(
    clicks: readonly { readonly property: PropertyView; readonly click: ClickRecord }[],
  ): Promise<void>;
  /** Counts one TRUSTED conversion for each traffic source of the click (feeds the learned statistics). */
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
  /** `delaySeconds`: the message becomes visible that much later (SQS DelaySeconds). */
  send(queue: QueueName, message: Record<string, unknown>, options?: { readonly delaySeconds?: number }): Promise<void>;
}

export interface IngestionDeps {
  readonly properties: PropertyPort;
  readonly scoring: ScoringPort;
  readonly tokens: TokenPort;
  readonly clickStores: ClickStores;
  readonly store: IngestionStore;
  readonly queues: QueuePort;
  readonly now: () => number;
  /**
   * This container's share of clicks whose counts changed what a first click stores, per property: whether a
   * click is stored beside its counting (shared/ingestion/speculation.ts). Absent: always.
   */
  readonly corrections?: CorrectionShare;
}
