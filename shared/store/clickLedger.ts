/**
 * Storage of what the live path decided, as reporting reads it.
 *
 * The live click path calls, per click (one round of parallel writes):
 *   ledger.recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'>
 *       stores the click, one conditional PutItem (a retried request is stored once). Nothing else: the
 *       daily rollups and the blocklist's address records are moved off the request path by the click
 *       counter (shared/ingestion/counting.ts), which compares each click with what it counted of it
 *       (counts.ts) and moves rollups and markers in one transaction per batch.
 * Re-scorers (beacons, conversions) call:
 *   ledger.rescoreClick(clickId, decide: (click: StoredClick) => Rescore | undefined)
 *       : Promise<RescoreResult | undefined>
 *       reads the click, lets `decide` compute the new outcome (undefined: already applied, nothing to do),
 *       and writes it with ONE UpdateItem conditional on the version read — that condition is also the
 *       exactly-once guard: a redelivery re-reads, finds the change applied, and writes nothing.
 * /v1/events calls rollups.recordEvent(propertyId, timezone, at).
 *
 * Lower-level parts, usable alone: ClickStore (putClick, getClick, getClicks, updateClickOutcome,
 * clicksInRange), RollupStore (recordOutcome, recordEvent, readDays), IpReputationStore (recordIpOutcome,
 * riskyIps), CountLedger (counted, count). Every part has a DynamoDB implementation and an in-memory one
 * with the same semantics.
 */
import type { ClickRecord, Outcome, ReasonEntry } from '../model';
import { type ClickPatch, type ClickStore, ClickVersionConflictError, type StoredClick } from './clicks';
import type { CountLedger } from './counts';
import type { RollupStore } from './dailyRollup';
import type { IpReputationStore } from './ipReputation';

interface Rescore {
  readonly next: Outcome;
  readonly reasons: readonly ReasonEntry[];
  readonly patch?: ClickPatch;
}

interface RescoreResult {
  readonly before: Outcome;
  readonly click: StoredClick;
}

interface ClickLedger {
  /** The click alone, once: `duplicate` when a click with its id is stored already. */
  recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'>;
  /** Undefined when the click does not exist or `decide` returns undefined (nothing to change). */
  rescoreClick(
    clickId: string,
    decide: (click: StoredClick) => Rescore | undefined,
  ): Promise<RescoreResult | undefined>;
}

/** Everything the click path, the re-scorers and reporting keep about clicks. */
export interface ClickStores {
  readonly clicks: ClickStore;
  readonly rollups: RollupStore;
  readonly ipReputation: IpReputationStore;
  readonly ledger: ClickLedger;
  readonly counts: CountLedger;
}

const MAX_RESCORE_ATTEMPTS = 8;

/** Read, decide, one conditional write; a version conflict means someone else won, so read again. */
async function rescoreWithRetry(
  clicks: ClickStore,
  clickId: string,
  decide: (click: StoredClick) => Rescore | undefined,
): Promise<RescoreResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const click = await clicks.getClick(clickId);
    if (!click) return undefined;
    const change = decide(click);
    if (!change) return undefined;
    try {
      const updated = await clicks.updateClickOutcome(
        clickId,
        change.next,
        change.reasons,
        change.patch ?? {},
        click.version,
      );
      return { before: click.current, click: updated };
    } catch (error) {
      if (!(error instanceof ClickVersionConflictError) || attempt >= MAX_RESCORE_ATTEMPTS) throw error;
    }
  }
}

/** The ledger on any click store: the click is one item, a re-score one conditional write. */
export class VersionedClickLedger implements ClickLedger {
  constructor(private readonly clicks: ClickStore) {}

  recordClick(record: ClickRecord, expiresAt?: number): Promise<'stored' | 'duplicate'> {
    return this.clicks.putClick(record, expiresAt);
  }

  rescoreClick(clickId: string, decide: (click: StoredClick) => Rescore | undefined) {
    return rescoreWithRetry(this.clicks, clickId, decide);
  }
}
