import { fnv1a } from '../fnv1a';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from './aws/dynamodb';
import { batchGet } from './batchGet';
import { prefetchedPages } from './sortedMerge';
import { ttlAt } from './table';

/**
 * Per property and address, what the blocklist needs: `IPREP#<propertyId>#<ip>` / `IPREP` with
 * `score` (the highest click score of the last REPUTATION_WINDOW_MS), `reason` (that click's main rule),
 * `scoreAt` (when that score was set), `lastSeen` (the latest click from the address) and `clicks` (how
 * many clicks the address made since its record started with its first risky click: the volume the
 * exclusion ranking weighs).
 *
 * `clicks` grows by one per click (`clickId` given, no `previousScore`) in the same single update that
 * moves the score or `lastSeen`, so counting costs no extra write. A redelivered click must not count
 * twice: the record keeps CLICK_SLOTS slots `c0…c7`, and click `id` writes fnv1a(id) into slot
 * fnv1a(id) % CLICK_SLOTS; an update whose slot already holds the click's hash is a repeat and changes
 * nothing. (A repeat is missed only if CLICK_SLOTS·k other clicks of the same address landed in its slot
 * in between; a distinct click is missed only on a 32-bit hash collision in its slot.)
 *
 * Addresses whose score is at least RISKY_FLOOR also sit in the sparse GSI2 under
 * `IPS#<propertyId>#<shard>`, sorted by `lastSeen` (ISO), so a blocklist reads the recent risky
 * addresses of one property without a scan. Clean addresses never enter the index.
 *
 * How the score changes (kept deliberately simple):
 * - a new click raises the score when it is higher, and replaces it outright once the stored score is
 *   older than the window (so an address that turned clean drops off after a window of clean clicks);
 * - a re-score (`previousScore` given) replaces the score when it is higher, and lowers it when the
 *   stored score is exactly the click's previous score (that click was the one holding the maximum);
 *   a re-score never moves `lastSeen`.
 */
export const RISKY_FLOOR = 40;
const IP_INDEX_SHARDS = 4;
const REPUTATION_WINDOW_MS = 30 * 86_400_000;
/** Kept a little longer than the longest blocklist window (365 days). */
const LIFETIME_SECONDS = 400 * 86_400;
/** Recent-click slots per address record (see above): small enough to keep the record under 1 KB. */
const CLICK_SLOTS = 8;

/** The slot attribute and the value a click writes there. */
function clickSlot(clickId: string): { attribute: string; hash: number } {
  const hash = fnv1a(clickId);
  return { attribute: `c${hash % CLICK_SLOTS}`, hash };
}

interface IpOutcome {
  readonly propertyId: string;
  readonly ip: string;
  /** When the click happened (epoch ms). */
  readonly at: number;
  readonly score: number;
  /** Rule id of the click's strongest reason (what the blocklist shows as `reason`). */
  readonly reason: string;
  /** Set on a re-score: the click's score before it. */
  readonly previousScore?: number;
  /** The click this outcome comes from, counted once into `clicks`; absent for evidence that is no new click. */
  readonly clickId?: string;
}

export interface IpReputation {
  readonly ip: string;
  readonly score: number;
  readonly reason: string;
  /** Epoch ms. */
  readonly lastSeen: number;
  /** Clicks since the record started (0 for a record made by other evidence, e.g. the honeypot). */
  readonly clicks: number;
}

export interface IpReputationStore {
  recordIpOutcome(outcome: IpOutcome): Promise<void>;
  /** Which of these addresses of the property have a record (the click counter skips clean unknown ones). */
  knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>>;
  /** Addresses with `score >= minScore` (at least RISKY_FLOOR) seen at or after `sinceMs`, in no particular order. */
  riskyIps(propertyId: string, sinceMs: number, minScore: number): Promise<IpReputation[]>;
}

const ipReputationKey = (propertyId: string, ip: string) => ({ pk: `IPREP#${propertyId}#${ip}`, sk: 'IPREP' });
/** Counts the click and marks its slot (names `#slot`, values `:zero`, `:one`, `:click`). */
const COUNT_SETS = ['clicks = if_not_exists(clicks, :zero) + :one', '#slot = :click'];
const TOUCH_SETS = ['lastSeen = :at', 'gsi2sk = :seen', 'expiresAt = :expiresAt'];
/** …unless its slot already holds it (a redelivered click). */
const NOT_COUNTED = ' AND (attribute_not_exists(#slot) OR #slot <> :click)';
const ipIndexPartition = (propertyId: string, shard: number) => `IPS#${propertyId}#${shard}`;

export class DynamoIpReputationStore implements IpReputationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordIpOutcome(outcome: IpOutcome): Promise<void> {
    const { propertyId, ip, at, score, reason, previousScore, clickId } = outcome;
    const risky = score >= RISKY_FLOOR;
    const names = { '#score': 'score', '#reason': 'reason', '#gsi2pk': 'gsi2pk' };
    const indexPart = risky ? ', #gsi2pk = :partition' : ' REMOVE #gsi2pk';
    const partition = risky ? { ':partition': ipIndexPartition(propertyId, fnv1a(ip) % IP_INDEX_SHARDS) } : {};
    try {
      if (previousScore !== undefined) {
        await this.update({
          Key: ipReputationKey(propertyId, ip),
          UpdateExpression: `SET #score = :score, #reason = :reason${indexPart}`,
          ConditionExpression: 'attribute_exists(pk) AND (#score <= :score OR #score = :previous)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':score': score, ':reason': reason, ':previous': previousScore, ...partition },
        });
        return;
      }
      const count = clickId === undefined ? undefined : clickSlot(clickId);
      await this.update({
        Key: ipReputationKey(propertyId, ip),
        UpdateExpression:
          'SET #score = :score, #reason = :reason, scoreAt = :at, lastSeen = :at, gsi2sk = :seen, ' +
          `propertyId = :propertyId, ip = :ip, expiresAt = :expiresAt${count ? `, ${COUNT_SETS.join(', ')}` : ''}${indexPart}`,
        ConditionExpression: `(attribute_not_exists(pk) OR #score <= :score OR scoreAt < :staleBefore)${count ? NOT_COUNTED : ''}`,
        ExpressionAttributeNames: { ...names, ...(count ? { '#slot': count.attribute } : {}) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ExpressionAttributeValues: {
          ':score': score,
          ':reason': reason,
          ':at': at,
          ':seen': new Date(at).toISOString(),
          ':propertyId': propertyId,
          ':ip': ip,
          ':expiresAt': ttlAt(at, LIFETIME_SECONDS),
          ':staleBefore': at - REPUTATION_WINDOW_MS,
          ...partition,
          ...(count ? { ':zero': 0, ':one': 1, ':click': count.hash } : {}),
        },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (previousScore === undefined) await this.touch(propertyId, ip, at, clickId, error.Item);
    }
  }

  async knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    const unique = [...new Set(ips)];
    const keys = unique.map((ip) => ipReputationKey(propertyId, ip));
    for (const item of await batchGet(this.client, this.tableName, keys, { consistent: true, projection: 'ip' })) {
      known.add(String(item.ip));
    }
    return known;
  }

  async riskyIps(propertyId: string, sinceMs: number, minScore: number): Promise<IpReputation[]> {
    const shards = Array.from({ length: IP_INDEX_SHARDS }, async (_, shard) => {
      const found: IpReputation[] = [];
      const items = prefetchedPages<Record<string, unknown>, Record<string, unknown>>(async (cursor) => {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
            FilterExpression: '#score >= :min',
            ExpressionAttributeNames: { '#score': 'score' },
            ExpressionAttributeValues: {
              ':pk': ipIndexPartition(propertyId, shard),
              ':since': new Date(sinceMs).toISOString(),
              ':min': Math.max(minScore, RISKY_FLOOR),
            },
            ExclusiveStartKey: cursor,
          }),
        );
        return { items: page.Items ?? [], next: page.LastEvaluatedKey };
      });
      for await (const item of items) {
        found.push({
          ip: String(item.ip),
          score: Number(item.score),
          reason: String(item.reason),
          lastSeen: Number(item.lastSeen),
          clicks: Number(item.clicks ?? 0),
        });
      }
      return found;
    });
    return (await Promise.all(shards)).flat();
  }

  /**
   * The address was seen again without a higher score: `lastSeen` moves (never backwards) and the click is
   * counted (once). `old` is the record as the refused update found it (DynamoDB returns it with the
   * refusal, so deciding costs no read); a race with another writer re-decides once on the fresher record.
   */
  private async touch(
    propertyId: string,
    ip: string,
    at: number,
    clickId: string | undefined,
    old: Record<string, AttributeValue> | undefined,
  ): Promise<void> {
    const count = clickId === undefined ? undefined : clickSlot(clickId);
    let record = old;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (count && record?.[count.attribute]?.N === String(count.hash)) return;
      const later = record?.lastSeen?.N === undefined || Number(record.lastSeen.N) < at;
      if (!later && !count) return;
      try {
        await this.update({
          Key: ipReputationKey(propertyId, ip),
          UpdateExpression: `SET ${[...(later ? TOUCH_SETS : []), ...(count ? COUNT_SETS : [])].join(', ')}`,
          ConditionExpression: `attribute_exists(pk)${later ? ' AND lastSeen < :at' : ''}${count ? NOT_COUNTED : ''}`,
          ExpressionAttributeNames: count ? { '#slot': count.attribute } : undefined,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ExpressionAttributeValues: {
            ...(later
              ? { ':at': at, ':seen': new Date(at).toISOString(), ':expiresAt': ttlAt(at, LIFETIME_SECONDS) }
              : {}),
            ...(count ? { ':zero': 0, ':one': 1, ':click': count.hash } : {}),
          },
        });
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        record = error.Item;
      }
    }
  }

  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<void> {
    await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
  }
}

interface MemoryIpRecord extends IpReputation {
  readonly propertyId: string;
  readonly scoreAt: number;
  /** Slot attribute → click hash, as `c0…c7` in DynamoDB. */
  readonly slots: Readonly<Record<string, number>>;
}

/** Same rules as the DynamoDB store, in a Map. */
export class MemoryIpReputationStore implements IpReputationStore {
  private readonly records = new Map<string, MemoryIpRecord>();

  async recordIpOutcome(outcome: IpOutcome): Promise<void> {
    const key = ipReputationKey(outcome.propertyId, outcome.ip).pk;
    const stored = this.records.get(key);
    const { propertyId, ip, at, score, reason, previousScore, clickId } = outcome;
    if (previousScore !== undefined) {
      if (stored && (stored.score <= score || stored.score === previousScore)) {
        this.records.set(key, { ...stored, score, reason });
      }
      return;
    }
    const count = clickId === undefined ? undefined : clickSlot(clickId);
    if (count && stored?.slots[count.attribute] === count.hash) return;
    const counted = (record: MemoryIpRecord | undefined) =>
      count
        ? { clicks: (record?.clicks ?? 0) + 1, slots: { ...record?.slots, [count.attribute]: count.hash } }
        : { clicks: record?.clicks ?? 0, slots: record?.slots ?? {} };
    if (!stored || stored.score <= score || stored.scoreAt < at - REPUTATION_WINDOW_MS) {
      this.records.set(key, { propertyId, ip, score, reason, scoreAt: at, lastSeen: at, ...counted(stored) });
    } else if (stored.lastSeen < at || count) {
      this.records.set(key, { ...stored, lastSeen: Math.max(stored.lastSeen, at), ...counted(stored) });
    }
  }

  async knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>> {
    return new Set(ips.filter((ip) => this.records.has(ipReputationKey(propertyId, ip).pk)));
  }

  async riskyIps(propertyId: string, sinceMs: number, minScore: number): Promise<IpReputation[]> {
    const floor = Math.max(minScore, RISKY_FLOOR);
    return [...this.records.values()]
      .filter((r) => r.propertyId === propertyId && r.lastSeen >= sinceMs && r.score >= floor)
      .map(({ ip, score, reason, lastSeen, clicks }) => ({ ip, score, reason, lastSeen, clicks }));
  }
}
