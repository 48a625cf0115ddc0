import { tokenSigningKey } from '../auth/signingKey';
import { ENV, requireEnv } from '../config/env';
import { currentIntel } from '../intel/current';
import type { IpIntelLookup } from '../intel/types';
import { DEFAULT_CONFIG } from '../properties/config';
import type { PropertyRecord } from '../properties/model';
import { properties } from '../properties/service';
import type { QueueName } from '../routes';
import { type EngineConfig, engineConfigFrom } from '../scoring/config';
import { type ClickStores, clickStores, dynamoClickPathStores, ingestionStore, sourceStatsStore } from '../store';
import type { DynamoDBDocumentClient } from '../store/aws/dynamodb';
import { SendMessageCommand, type SQSClient } from '../store/aws/sqs';
import { documentClient, sqs } from '../store/clients';
import type { IngestionStore } from '../store/ingestion/store';
import type { SourceStatsStore } from '../store/sourceStats';
import { issueClickToken, verifyClickToken } from '../tokens';
import { engineScoring } from './engine';
import type { IngestionDeps, PropertyPort, PropertyView, QueuePort, TokenPort } from './ports';
import { CorrectionShare } from './speculation';

/** The engine config is compiled once per cached property record (the allowlist compile is the costly part). */
const engines = new WeakMap<PropertyRecord, EngineConfig>();

function propertyView(record: PropertyRecord): PropertyView {
  let engine = engines.get(record);
  if (!engine) {
    engine = engineConfigFrom(record.config);
    engines.set(record, engine);
  }
  return {
    id: record.id,
    currency: record.currency,
    timezone: record.timezone,
    retentionSeconds: (record.config.retentionDays ?? DEFAULT_CONFIG.retentionDays) * 86_400,
    engine,
  };
}

/** Properties through the property service's ~10 s cache; a disabled property is treated as absent. */
export function cachedProperties(
  get: (id: string) => Promise<PropertyRecord | undefined> = (id) => properties().getProperty(id),
): PropertyPort {
  return {
    async get(propertyId) {
      const record = await get(propertyId);
      return record && !record.disabled ? propertyView(record) : undefined;
    },
  };
}

/** Click tokens signed with the property's derived key (shared/auth/signingKey). */
export function signedTokens(keyOf: (propertyId: string) => Promise<Buffer> = tokenSigningKey): TokenPort {
  return {
    async issue(propertyId, input, now) {
      const issued = issueClickToken(await keyOf(propertyId), { propertyId, ...input, nowMs: now });
      return { token: issued.token, expiresAt: issued.expiresAt };
    },
    async verify(propertyId, token, now) {
      return verifyClickToken(await keyOf(propertyId), token, now, propertyId);
    },
  };
}

/** SQS queues named by QUEUE_URL_<NAME> (the stack and the local server set them). */
function sqsQueues(client: SQSClient = sqs): QueuePort {
  // Read on first use and kept (process.env is slow to read on every message).
  const urls = new Map<QueueName, string>();
  const urlOf = (queue: QueueName) => {
    let url = urls.get(queue);
    if (url === undefined) {
      url = requireEnv(ENV.queueUrl[queue]);
      urls.set(queue, url);
    }
    return url;
  };
  return {
    async send(queue: QueueName, message, options) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: urlOf(queue),
          MessageBody: JSON.stringify(message),
          DelaySeconds: options?.delaySeconds,
        }),
      );
    },
  };
}

interface DynamoDepsOptions {
  readonly client?: DynamoDBDocumentClient;
  readonly tableName?: string;
  /** The velocity counters' table; default: COUNTERS_TABLE_NAME, or `tableName` when only that is given. */
  readonly countersTableName?: string;
  readonly clickStores?: ClickStores;
  readonly properties?: PropertyPort;
  readonly tokens?: TokenPort;
  readonly queues?: QueuePort;
  readonly intel?: () => Promise<IpIntelLookup>;
  readonly sources?: SourceStatsStore;
  readonly store?: IngestionStore;
  readonly now?: () => number;
}

/**
 * Every port on DynamoDB, SQS and the engine; options replace single parts (bench, tests). The stores come
 * from the composition root (shared/store): the container's own, or a fresh set on `client` / `tableName`.
 */
function dynamoIngestionDeps(options: DynamoDepsOptions = {}): IngestionDeps {
  const now = options.now ?? Date.now;
  const own =
    options.client === undefined &&
    options.tableName === undefined &&
    options.countersTableName === undefined &&
    options.now === undefined;
  const stores = own
    ? undefined
    : dynamoClickPathStores(
        options.client ?? documentClient,
        options.tableName ?? requireEnv(ENV.tableName),
        now,
        options.countersTableName ??
          (options.tableName === undefined ? requireEnv(ENV.countersTableName) : options.tableName),
      );
  return {
    properties: options.properties ?? cachedProperties(),
    scoring: engineScoring({
      intel: options.intel ?? currentIntel,
      sources: options.sources ?? stores?.sources ?? sourceStatsStore(),
    }),
    tokens: options.tokens ?? signedTokens(),
    clickStores: options.clickStores ?? stores?.clicks ?? clickStores(),
    store: options.store ?? stores?.ingestion ?? ingestionStore(),
    queues: options.queues ?? sqsQueues(),
    now,
    corrections: new CorrectionShare(),
  };
}

let defaultDeps: IngestionDeps | undefined;

/** The deps of the deployed functions, created on first use (after the environment is set). */
export function ingestionDeps(): IngestionDeps {
  defaultDeps ??= dynamoIngestionDeps();
  return defaultDeps;
}
