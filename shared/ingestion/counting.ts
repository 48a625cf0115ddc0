import type { Outcome } from '../model';
import { logger } from '../observability';
import { type CountChange, type CountedOutcome, RISKY_FLOOR, type StoredClick } from '../store';
import type { CountMessage } from './messages';
import type { IngestionDeps, PropertyView } from './ports';

/**
 * The click counter: the one aggregating consumer that takes everything but the click itself off the
 * request path. The click path and the re-scorers send one `count` message per stored click or changed
 * verdict (delayed a little, so the click is written when it arrives); a batch of them is counted here:
 *
 *  1. the clicks as stored now and what was counted of them (two strongly consistent BatchGetItems);
 *  2. the changes (new clicks, changed verdicts) go through the idempotent aggregations (the blocklist's
 *     address records, the visitor's worst click) — applying one twice is harmless, so a redelivery may;
 *  3. ONE transaction per 40 clicks moves each click's counted marker (conditional on what was read) and
 *     adds the daily rollup deltas, grouped by property and day: exactly once, whatever the redelivery;
 *  4. then the at-most-once aggregations, on the clicks this batch counted first (a failure is logged,
 *     never retried into a double count).
 *
 * Counting is state-based: the rollups follow the click as stored against the marker, so a lost or
 * duplicated message, or messages in any order, still end with every stored click counted once at its
 * current verdict. A message whose click is not stored yet waits (the caller redelivers it) until
 * CLICK_WRITE_GRACE_MS after the click; a click still missing then was refused (5xx) and is dropped.
 *
 * More batch aggregations go in `aggregations` below (each gets the batch's changes once).
 */
export const CLICK_WRITE_GRACE_MS = 60_000;

/** One click whose stored verdict differs from what was counted. */
interface CountedClick {
  readonly click: StoredClick;
  readonly property: PropertyView;
  /** What was counted before; absent for a click counted the first time. */
  readonly counted?: CountedOutcome;
}

interface BatchAggregation {
  readonly name: string;
  /**
   * `idempotent`: applied before the rollups commit, again on a redelivery (must be harmless twice).
   * `at-most-once`: applied after the commit to the clicks the commit counted; a failure is logged.
   */
  readonly kind: 'idempotent' | 'at-most-once';
  apply(deps: IngestionDeps, changes: readonly CountedClick[]): Promise<void>;
}

/**
 * The blocklist's input: each address's risk (shared/store/ipReputation.ts), one address at a time.
 * A clean click from an address without a record writes nothing (most traffic): the record starts with the
 * first risky click, and from then on every click of the address keeps its `lastSeen` and its click count
 * (in the same update: still one write per click; the record ignores a click id it already counted).
 */
const blocklistInputs: BatchAggregation = {
  name: 'blocklist inputs',
  kind: 'idempotent',
  async apply(deps, changes) {
    const byAddress = new Map<string, CountedClick[]>();
    const ipsByProperty = new Map<string, string[]>();
    for (const change of changes) {
      const key = `${change.click.propertyId}#${change.click.ip}`;
      byAddress.set(key, [...(byAddress.get(key) ?? []), change]);
      ipsByProperty.set(change.click.propertyId, [
        ...(ipsByProperty.get(change.click.propertyId) ?? []),
        change.click.ip,
      ]);
    }
    const known = new Set<string>();
    for (const [propertyId, ips] of ipsByProperty) {
      for (const ip of await deps.clickStores.ipReputation.knownIps(propertyId, ips)) known.add(`${propertyId}#${ip}`);
    }
    await Promise.all(
      [...byAddress].map(async ([key, sameAddress]) => {
        for (const { click, counted } of sameAddress) {
          if (counted && counted.outcome.score === click.current.score) continue;
          const risky = click.current.score >= RISKY_FLOOR;
          if (!known.has(key) && !risky) continue;
          // A re-score lowers the record only if one exists; otherwise it is a click the record has not
          // counted yet (a new one, or the re-score that makes an address risky): it adds to the volume.
          const previousScore = known.has(key) ? counted?.outcome.score : undefined;
          await deps.clickStores.ipReputation.recordIpOutcome({
            propertyId: click.propertyId,
            ip: click.ip,
            at: click.at,
            score: click.current.score,
            reason: click.reasons[0]?.rule ?? 'none',
            previousScore,
            clickId: previousScore === undefined ? click.clickId : undefined,
          });
          known.add(key);
        }
      }),
    );
  },
};

/** Traffic-source click counts (the source-quality snapshot): new clicks only, one write per property and batch. */
const sourceClicks: BatchAggregation = {
  name: 'traffic-source clicks',
  kind: 'at-most-once',
  async apply(deps, changes) {
    await deps.scoring.recordSourceClicks(changes.filter((change) => change.counted === undefined));
  },
};

/**
 * The visitor's worst click (GET /v1/decision reads it beside the last one), raised for each new click that
 * scored above zero: a conditional write that only ever raises, so a redelivery may apply it again. Its score
 * as stored now: a re-score that came first has set it already (the scorers' rescoreVisitor). A FRAUD click
 * raised it on the request path (recordClick).
 */
const visitorWorst: BatchAggregation = {
  name: 'visitor worst click',
  kind: 'idempotent',
  async apply(deps, changes) {
    await Promise.all(
      changes
        .filter(({ click, counted }) => counted === undefined && click.current.score > 0)
        .filter(({ click }) => click.atClick.label !== 'FRAUD')
        .map(({ click }) =>
          deps.store.raiseWorst(click.visitorId, click.propertyId, {
            clickId: click.clickId,
            score: click.current.score,
          }),
        ),
    );
  },
};

const aggregations: readonly BatchAggregation[] = [blocklistInputs, visitorWorst, sourceClicks];

interface CountResult {
  /** Clicks whose count moved in this batch. */
  readonly counted: number;
  /** Messages to deliver again later: their click is not readable yet. */
  readonly waiting: readonly CountMessage[];
  readonly dropped: number;
}

const outcomeOf = (click: StoredClick): Outcome => click.current;

export async function countClicks(
  deps: IngestionDeps,
  messages: readonly CountMessage[],
  stages: readonly BatchAggregation[] = aggregations,
): Promise<CountResult> {
  const ids = [...new Set(messages.map((m) => m.clickId))];
  const [clicks, counted] = await Promise.all([
    deps.clickStores.clicks.getClicks(ids),
    deps.clickStores.counts.counted(ids),
  ]);
  const now = deps.now();
  const waiting: CountMessage[] = [];
  let dropped = 0;
  const changes = new Map<string, CountedClick>();
  for (const message of messages) {
    const click = clicks.get(message.clickId);
    if (!click) {
      if (now - message.at < CLICK_WRITE_GRACE_MS) waiting.push(message);
      else {
        dropped++;
        logger.warn('count dropped: the click was never stored', { clickId: message.clickId });
      }
      continue;
    }
    if (click.propertyId !== message.propertyId || changes.has(click.clickId)) continue;
    const marker = counted.get(click.clickId);
    if (marker && marker.version >= click.version) continue;
    const property = await deps.properties.get(click.propertyId);
    if (!property) {
      dropped++;
      continue;
    }
    changes.set(click.clickId, { click, property, counted: marker });
  }
  const batch = [...changes.values()];
  if (batch.length === 0) return { counted: 0, waiting, dropped };

  for (const stage of stages) if (stage.kind === 'idempotent') await stage.apply(deps, batch);
  await deps.clickStores.counts.count(
    batch.map(
      ({ click, property, counted: before }): CountChange => ({
        clickId: click.clickId,
        propertyId: click.propertyId,
        timezone: property.timezone,
        at: click.at,
        counted: before,
        now: {
          version: click.version,
          outcome: outcomeOf(click),
          converted: click.convertedAt === undefined ? undefined : true,
        },
        atClick: click.atClick,
        expiresAt: click.expiresAt,
      }),
    ),
  );
  for (const stage of stages) {
    if (stage.kind !== 'at-most-once') continue;
    await stage.apply(deps, batch).catch((error: unknown) => {
      logger.error('aggregation failed after the counts committed', {
        aggregation: stage.name,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }
  return { counted: batch.length, waiting, dropped };
}
