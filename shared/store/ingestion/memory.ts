import { randomUUID } from 'node:crypto';
import type { VisitorState } from '../../ingestion/ports';
import { definedOnly } from '../../optional';
import type { CounterSpec } from '../../scoring/velocity';
import { InMemoryVelocityStore } from '../velocity/memory';
import type {
  ClaimResult,
  ClickRound,
  ClickRoundResult,
  ConversionRecord,
  IngestionStore,
  VisitorTouch,
} from './store';

type Visitor = VisitorState;

interface Claim {
  state: 'pending' | 'done';
  owner: string;
  leaseUntil: number;
  result?: Record<string, unknown>;
}

/** The ingestion items in Maps: unit tests and the offline tools. Same semantics as DynamoIngestionStore. */
export class MemoryIngestionStore implements IngestionStore {
  readonly visitors = new Map<string, Visitor>();
  private readonly tokens = new Map<string, { propertyId: string; clickId: string; uses: number }>();
  readonly conversions = new Map<string, ConversionRecord>();
  private readonly orders = new Set<string>();
  private readonly claims = new Map<string, Claim>();
  private readonly velocity: InMemoryVelocityStore;

  /** `now`: the clock the velocity windows expire by (the harness's). */
  constructor(now: () => number = Date.now) {
    this.velocity = new InMemoryVelocityStore(now);
  }

  async countClick(round: ClickRound): Promise<ClickRoundResult> {
    // The visitor's lifetime clicks live in its item, kept for the property's retention (as DynamoIngestionStore's).
    const counters = await this.velocity.increment(
      round.counters.map((spec) =>
        spec.counter === 'visitor_clicks' && spec.expiresAt < round.retainUntil
          ? { ...spec, expiresAt: round.retainUntil }
          : spec,
      ),
    );
    const worstScore = this.visitors.get(`${round.propertyId}#${round.visitorId}`)?.worstScore;
    if (round.countVisit) {
      const { visitorId, propertyId, at, ip, clickId, retainUntil: expiresAt } = round;
      await this.touchVisitor({ visitorId, propertyId, at, ip, clickId, expiresAt });
    }
    if (round.token !== undefined) {
      const { tokenId } = round.token;
      const found = this.tokens.get(tokenId);
      this.tokens.set(
        tokenId,
        found ? { ...found, uses: found.uses + 1 } : { propertyId: round.propertyId, clickId: round.clickId, uses: 1 },
      );
    }
    return definedOnly({ counters, worstScore });
  }

  countActorConversion(actors: readonly CounterSpec[]): Promise<void> {
    return this.velocity.addConversion(actors);
  }

  async touchVisitor(touch: VisitorTouch): Promise<void> {
    const key = `${touch.propertyId}#${touch.visitorId}`;
    const found = this.visitors.get(key);
    const visitor: Visitor = found ?? {
      visitorId: touch.visitorId,
      propertyId: touch.propertyId,
      firstSeen: touch.at,
      lastSeen: touch.at,
      clicks: 0,
      pageViews: 0,
      conversions: 0,
      beacons: 0,
    };
    const next: Visitor = {
      ...visitor,
      lastSeen: touch.at,
      clicks: visitor.clicks + (touch.clickId !== undefined ? 1 : 0),
      pageViews: visitor.pageViews + (touch.pageView ? 1 : 0),
      beacons: visitor.beacons + (touch.beacon ? 1 : 0),
      conversions: visitor.conversions + (touch.conversion ? 1 : 0),
      ...definedOnly({ lastIp: touch.ip || undefined, lastClickId: touch.clickId }),
    };
    this.visitors.set(key, next);
  }

  async relinkLastClick(visitorId: string, propertyId: string, from: string, to: string): Promise<void> {
    const visitor = this.visitors.get(`${propertyId}#${visitorId}`);
    if (visitor?.lastClickId === from) this.visitors.set(`${propertyId}#${visitorId}`, { ...visitor, lastClickId: to });
  }

  async raiseWorst(visitorId: string, propertyId: string, click: { clickId: string; score: number }): Promise<void> {
    const visitor = this.visitors.get(`${propertyId}#${visitorId}`);
    if (visitor && (visitor.worstScore === undefined || visitor.worstScore < click.score))
      this.setWorst(visitor, click);
  }

  async rescoreVisitor(visitorId: string, propertyId: string, click: { clickId: string; score: number }) {
    const visitor = this.visitors.get(`${propertyId}#${visitorId}`);
    if (!visitor) return;
    if (visitor.worstClickId === click.clickId || (visitor.worstScore ?? -1) < click.score)
      this.setWorst(visitor, click);
  }

  private setWorst(visitor: Visitor, click: { clickId: string; score: number }) {
    this.visitors.set(`${visitor.propertyId}#${visitor.visitorId}`, {
      ...visitor,
      worstScore: click.score,
      worstClickId: click.clickId,
    });
  }

  async getVisitor(propertyId: string, visitorId: string, _now?: number): Promise<VisitorState | undefined> {
    const visitor = this.visitors.get(`${propertyId}#${visitorId}`);
    return visitor ? structuredClone(visitor) : undefined;
  }

  async findClickByToken(tokenId: string, _now?: number) {
    const found = this.tokens.get(tokenId);
    return found ? { ...found } : undefined;
  }

  async recordConversion(conversion: ConversionRecord) {
    if (this.conversions.has(conversion.clickId)) return { stored: false, conflict: 'click' } as const;
    const order = conversion.orderId !== undefined ? `${conversion.propertyId}#${conversion.orderId}` : undefined;
    if (order !== undefined && this.orders.has(order)) return { stored: false, conflict: 'order' } as const;
    this.conversions.set(conversion.clickId, conversion);
    if (order !== undefined) this.orders.add(order);
    return { stored: true } as const;
  }

  async forgetConversion(conversion: ConversionRecord): Promise<void> {
    this.conversions.delete(conversion.clickId);
    if (conversion.orderId !== undefined) this.orders.delete(`${conversion.propertyId}#${conversion.orderId}`);
  }

  async claim(key: string, now: number, leaseMs: number): Promise<ClaimResult> {
    const found = this.claims.get(key);
    if (found?.state === 'done') return { kind: 'done', result: structuredClone(found.result ?? {}) };
    if (found && found.leaseUntil >= now) return { kind: 'busy' };
    const owner = randomUUID();
    this.claims.set(key, { state: 'pending', owner, leaseUntil: now + leaseMs });
    return { kind: 'claimed', owner };
  }

  async complete(key: string, owner: string, result: Record<string, unknown>): Promise<void> {
    const found = this.claims.get(key);
    if (!found || found.owner !== owner) throw new Error(`claim ${key} is not held by ${owner}`);
    this.claims.set(key, { ...found, state: 'done', result: structuredClone(result) });
  }

  async release(key: string, owner: string): Promise<void> {
    const found = this.claims.get(key);
    if (found?.owner === owner && found.state === 'pending') this.claims.delete(key);
  }
}
