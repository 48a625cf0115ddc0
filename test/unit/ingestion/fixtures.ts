import { countClicks } from '../../../shared/ingestion/counting';
import { engineScoring } from '../../../shared/ingestion/engine';
import { CountMessage } from '../../../shared/ingestion/messages';
import type { IngestionDeps } from '../../../shared/ingestion/ports';
import { cachedProperties, signedTokens } from '../../../shared/ingestion/wiring';
import { bundledIntel } from '../../../shared/intel/current';
import type { PropertyRecord } from '../../../shared/properties/model';
import type { QueueName } from '../../../shared/routes';
import { type MemoryStores, memoryStores } from '../../../shared/store';

export const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
/** Addresses as the bundled snapshot classifies them. */
export const HOME_IP = '81.2.69.160';
export const AWS_IP = '3.5.140.2';
export const TOR_IP = '185.220.101.1';

export function propertyRecord(id: string, config: PropertyRecord['config'] = {}): PropertyRecord {
  return {
    id,
    name: id,
    plan: 'starter',
    currency: 'VND',
    timezone: 'UTC',
    config,
    keyHashes: { public: 'a'.repeat(64), secret: 'b'.repeat(64), webhook: 'c'.repeat(64) },
    usageKey: 'usage',
    usageKeyId: 'local',
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    disabled: false,
  };
}

export interface Harness {
  readonly deps: IngestionDeps;
  readonly store: MemoryStores['ingestion'];
  readonly clickStores: MemoryStores['clicks'];
  readonly sources: MemoryStores['sources'];
  readonly sent: Array<{ queue: QueueName; message: Record<string, unknown> }>;
  /** Messages to the click counter, kept apart from `sent`. */
  readonly counts: CountMessage[];
  /** Runs the click counter on the messages sent so far, as its queue consumer would. */
  count(): Promise<void>;
  readonly properties: Map<string, PropertyRecord>;
  clock: number;
  /** Makes the next queue send fail (once). */
  failNextSend: boolean;
}

/** Every port on its in-memory implementation and the real engine, token code and bundled intel. */
export function harness(start = Date.UTC(2026, 5, 1, 12)): Harness {
  const properties = new Map<string, PropertyRecord>([
    ['prop_a', propertyRecord('prop_a')],
    ['prop_b', propertyRecord('prop_b')],
  ]);
  const { ingestion: store, clicks: clickStores, sources } = memoryStores(() => h.clock);
  const key = Buffer.alloc(32, 7);
  const h: Harness = {
    store,
    clickStores,
    sources,
    sent: [],
    counts: [],
    async count() {
      const batch = h.counts.splice(0);
      const result = await countClicks(h.deps, batch);
      h.counts.push(...result.waiting);
    },
    properties,
    clock: start,
    failNextSend: false,
    deps: undefined as unknown as IngestionDeps,
  };
  const now = () => h.clock;
  (h as { deps: IngestionDeps }).deps = {
    properties: cachedProperties(async (id) => properties.get(id)),
    scoring: engineScoring({ intel: async () => bundledIntel(), sources }),
    tokens: signedTokens(async (propertyId) => Buffer.concat([key, Buffer.from(propertyId)])),
    clickStores,
    store,
    queues: {
      async send(queue, message) {
        if (h.failNextSend) {
          h.failNextSend = false;
          throw new Error('queue unavailable');
        }
        if (queue === 'counts') h.counts.push(CountMessage.parse(message));
        else h.sent.push({ queue, message: structuredClone(message) });
      },
    },
    now,
  };
  return h;
}
