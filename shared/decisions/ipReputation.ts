import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ttlAt } from '../storage/table';
import { batchGet } from './counts';
import { fnv1a } from './keys';
import { prefetchedPages } from './sortedMerge';

/**
 * Per property and address, what the blocklist needs: `IPREP#<propertyId>#<ip>` / `IPREP` with
 * `score` (the highest click score of the last REPUTATION_WINDOW_MS), `reason` (that click's main rule),
 * `scoreAt` (when that score was set) and `lastSeen` (the latest click from the address).
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
export const IP_INDEX_SHARDS = 4;
export const REPUTATION_WINDOW_MS = 30 * 86_400_000;
/** Kept a little longer than the longest blocklist window (365 days). */
const LIFETIME_SECONDS = 400 * 86_400;

export interface IpOutcome {
  readonly propertyId: string;
  readonly ip: string;
  /** When the click happened (epoch ms). */
  readonly at: number;
  readonly score: number;
  /** Rule id of the click's strongest reason (what the blocklist shows as `reason`). */
  readonly reason: string;
  /** Set on a re-score: the click's score before it. */
  readonly previousScore?: number;
}

export interface IpReputation {
  readonly ip: string;
  readonly score: number;
  readonly reason: string;
  /** Epoch ms. */
  readonly lastSeen: number;
}

export interface IpReputationStore {
  recordIpOutcome(outcome: IpOutcome): Promise<void>;
  /** Which of these addresses of the property have a record (the click counter skips clean unknown ones). */
  knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>>;
  /** Addresses with `score >= minScore` (at least RISKY_FLOOR) seen at or after `sinceMs`, in no particular order. */
  riskyIps(propertyId: string, sinceMs: number, minScore: number): Promise<IpReputation[]>;
}

export const ipReputationKey = (propertyId: string, ip: string) => ({ pk: `IPREP#${propertyId}#${ip}`, sk: 'IPREP' });
const ipIndexPartition = (propertyId: string, shard: number) => `IPS#${propertyId}#${shard}`;

export class DynamoIpReputationStore implements IpReputationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordIpOutcome(outcome: IpOutcome): Promise<void> {
    const { propertyId, ip, at, score, reason, previousScore } = outcome;
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
      await this.update({
        Key: ipReputationKey(propertyId, ip),
        UpdateExpression:
          'SET #score = :score, #reason = :reason, scoreAt = :at, lastSeen = :at, gsi2sk = :seen, ' +
          `propertyId = :propertyId, ip = :ip, expiresAt = :expiresAt${indexPart}`,
        ConditionExpression: 'attribute_not_exists(pk) OR #score <= :score OR scoreAt < :staleBefore',
        ExpressionAttributeNames: names,
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
        },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (previousScore === undefined) await this.touch(propertyId, ip, at);
    }
  }

  async knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    const unique = [...new Set(ips)];
    for (let i = 0; i < unique.length; i += 100) {
      const keys = unique.slice(i, i + 100).map((ip) => ipReputationKey(propertyId, ip));
      for (const item of await batchGet(this.client, this.tableName, keys, 'ip')) known.add(String(item.ip));
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
        });
      }
      return found;
    });
    return (await Promise.all(shards)).flat();
  }

  /** The address was seen again without a higher score: only `lastSeen` moves (never backwards). */
  private async touch(propertyId: string, ip: string, at: number): Promise<void> {
    try {
      await this.update({
        Key: ipReputationKey(propertyId, ip),
        UpdateExpression: 'SET lastSeen = :at, gsi2sk = :seen, expiresAt = :expiresAt',
        ConditionExpression: 'lastSeen < :at',
        ExpressionAttributeValues: {
          ':at': at,
          ':seen': new Date(at).toISOString(),
          ':expiresAt': ttlAt(at, LIFETIME_SECONDS),
        },
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<void> {
    await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
  }
}

interface MemoryIpRecord extends IpReputation {
  readonly propertyId: string;
  readonly scoreAt: number;
}

/** Same rules as the DynamoDB store, in a Map. */
export class MemoryIpReputationStore implements IpReputationStore {
  private readonly records = new Map<string, MemoryIpRecord>();

  async recordIpOutcome(outcome: IpOutcome): Promise<void> {
    const key = ipReputationKey(outcome.propertyId, outcome.ip).pk;
    const stored = this.records.get(key);
    const { propertyId, ip, at, score, reason, previousScore } = outcome;
    if (previousScore !== undefined) {
      if (stored && (stored.score <= score || stored.score === previousScore)) {
        this.records.set(key, { ...stored, score, reason });
      }
      return;
    }
    if (!stored || stored.score <= score || stored.scoreAt < at - REPUTATION_WINDOW_MS) {
      this.records.set(key, { propertyId, ip, score, reason, scoreAt: at, lastSeen: at });
    } else if (stored.lastSeen < at) {
      this.records.set(key, { ...stored, lastSeen: at });
    }
  }

  async knownIps(propertyId: string, ips: readonly string[]): Promise<Set<string>> {
    return new Set(ips.filter((ip) => this.records.has(ipReputationKey(propertyId, ip).pk)));
  }

  async riskyIps(propertyId: string, sinceMs: number, minScore: number): Promise<IpReputation[]> {
    const floor = Math.max(minScore, RISKY_FLOOR);
    return [...this.records.values()]
      .filter((r) => r.propertyId === propertyId && r.lastSeen >= sinceMs && r.score >= floor)
      .map(({ ip, score, reason, lastSeen }) => ({ ip, score, reason, lastSeen }));
  }
}
