import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { ENV, optionalEnv } from '../config/env';
import { logger } from '../observability';
import { GetObjectCommand, type S3Reader, S3ServiceException } from '../store/aws/s3';
import { type IntelSnapshot, loadIntelSnapshot } from './lookup';
import type { IpIntelLookup } from './types';

/** Env var naming a snapshot file that overrides the bundled one (local runs, tests). */
const INTEL_SNAPSHOT_FILE_ENV = 'INTEL_SNAPSHOT_FILE';
export const INTEL_PREFIX = 'intel/';
export const INTEL_POINTER_KEY = `${INTEL_PREFIX}latest.json`;
export const intelSnapshotKey = (version: string): string => `${INTEL_PREFIX}${version}.bin`;

/** `intel/latest.json`: which snapshot functions should use. */
const intelPointerSchema = z.object({
  version: z.string().regex(/^[0-9a-f]{16}$/),
  key: z.string(),
  builtAt: z.string(),
});
export type IntelPointer = z.infer<typeof intelPointerSchema>;

let bundled: IntelSnapshot | undefined;

/**
 * The snapshot shipped with the code, loaded once per process. In a Lambda bundle the stack copies
 * ipintel.bin next to index.js; in the source tree it sits in ./snapshot/.
 */
export function bundledIntel(): IntelSnapshot {
  if (bundled === undefined) {
    const candidates = [
      optionalEnv(INTEL_SNAPSHOT_FILE_ENV),
      path.join(__dirname, 'ipintel.bin'),
      path.join(__dirname, 'snapshot', 'ipintel.bin'),
    ].filter((file): file is string => file !== undefined);
    const file = candidates.find((candidate) => existsSync(candidate));
    if (file === undefined) throw new Error('bundled IP-intelligence snapshot not found');
    bundled = loadIntelSnapshot(readFileSync(file));
  }
  return bundled;
}

interface IntelSourceOptions {
  readonly s3: S3Reader;
  readonly bucket: string | undefined;
  /** How long a container keeps a snapshot before checking the pointer again. */
  readonly maxAgeMs?: number;
  /** Bound on the one S3 wait a container's first lookup may do. */
  readonly firstWaitMs?: number;
  readonly now?: () => number;
}

/**
 * The newest snapshot published to S3, else the bundled one. The first call in a container waits for
 * one bounded S3 check; later checks run in the background at most every `maxAgeMs`. Any S3 failure
 * keeps what the container already has, so scoring never fails or stalls because of intel.
 */
export class IntelSource {
  private current: IntelSnapshot | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private first: Promise<void> | undefined;
  private background: Promise<void> | undefined;
  private readonly maxAgeMs: number;
  private readonly firstWaitMs: number;
  private readonly now: () => number;

  constructor(private readonly options: IntelSourceOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 15 * 60_000;
    this.firstWaitMs = options.firstWaitMs ?? 2_000;
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<IntelSnapshot> {
    if (this.options.bucket === undefined) return this.fallback();
    if (this.first === undefined) {
      this.first = this.check(this.firstWaitMs);
      await this.first;
    } else if (this.background === undefined && this.now() - this.checkedAt >= this.maxAgeMs) {
      this.background = this.check(30_000).finally(() => {
        this.background = undefined;
      });
    }
    return this.current ?? this.fallback();
  }

  /** Waits for a background check in flight (tests, graceful shutdown). */
  async settled(): Promise<void> {
    await this.first;
    await this.background;
  }

  private fallback(): IntelSnapshot {
    return bundledIntel();
  }

  private async check(timeoutMs: number): Promise<void> {
    this.checkedAt = this.now();
    const bucket = this.options.bucket!;
    try {
      const pointerText = await this.read(bucket, INTEL_POINTER_KEY, timeoutMs);
      if (pointerText === undefined) return;
      const pointer = intelPointerSchema.parse(JSON.parse(Buffer.from(pointerText).toString('utf8')));
      if (pointer.version === (this.current ?? this.fallback()).version) return;
      const bytes = await this.read(bucket, pointer.key, timeoutMs);
      if (bytes === undefined) throw new Error('snapshot named by the pointer is missing');
      const snapshot = loadIntelSnapshot(bytes);
      if (snapshot.version !== pointer.version) throw new Error('snapshot version differs from its pointer');
      this.current = snapshot;
      logger.info('intel snapshot loaded from S3', { intelVersion: snapshot.version });
    } catch (error) {
      logger.warn('intel snapshot from S3 unavailable, keeping the current one', {
        reason: error instanceof Error ? error.name : 'unknown',
        intelVersion: (this.current ?? this.fallback()).version,
      });
    }
  }

  private async read(bucket: string, key: string, timeoutMs: number): Promise<Uint8Array | undefined> {
    try {
      const response = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      return await response.Body?.transformToByteArray();
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
      throw error;
    }
  }
}

let defaultSource: IntelSource | undefined;

/** The snapshot a scoring function should use now (see IntelSource). */
export async function currentIntel(): Promise<IpIntelLookup> {
  if (defaultSource === undefined) {
    // Imported lazily so pure callers of bundledIntel() do not create SDK clients.
    const { s3Reader } = await import('../store/clients');
    defaultSource = new IntelSource({ s3: s3Reader, bucket: optionalEnv(ENV.bucketName) });
  }
  return defaultSource.get();
}
