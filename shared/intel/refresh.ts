import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { logger } from '../observability';
import type { S3Reader } from '../store/aws/s3';
import { INTEL_POINTER_KEY, type IntelPointer, IntelSource, intelSnapshotKey } from './current';
import { type HostingAsn, reviewedHostingAsns } from './hostingAsn';
import type { IntelSnapshot } from './lookup';
import { azureServiceTagsLink } from './parsers';
import { coverage, type IntelRange, mergeIntervals } from './ranges';
import { buildIntelSnapshot, type SourceRanges } from './snapshot';
import { parseDocument, SOURCES, type SourceDef, type SourceDocument, type SourceId } from './sources';

/** A source whose fresh list covers less than this share of its previous intervals is not trusted. */
const MIN_KEPT_SHARE = 0.5;

/**
 * Plausibility bounds of one source's list. A poisoned or broken upstream must not classify a large
 * part of the internet (a `0.0.0.0/0` line would make every visitor a datacenter or Tor address):
 * no single range wider than a /8, no more than a quarter of IPv4 (or a /12 of IPv6) in all, and no
 * more than PLAUSIBLE.maxRanges entries.
 */
export const PLAUSIBLE = {
  widestPrefix: 8,
  maxV4Addresses: 1n << 30n,
  maxV6Addresses: 1n << 116n,
  maxRanges: 500_000,
} as const;

/** Why a fresh list is implausible, or undefined when it is not. */
export function implausible(fresh: readonly IntelRange[]): 'too-wide' | 'too-much' | 'too-many' | undefined {
  if (fresh.length > PLAUSIBLE.maxRanges) return 'too-many';
  const widest = { 4: 1n << BigInt(32 - PLAUSIBLE.widestPrefix), 6: 1n << BigInt(128 - PLAUSIBLE.widestPrefix) };
  const total = { 4: 0n, 6: 0n };
  for (const range of mergeIntervals(fresh.filter((r) => r.family === 4))) total[4] += range.last - range.first + 1n;
  for (const range of mergeIntervals(fresh.filter((r) => r.family === 6))) total[6] += range.last - range.first + 1n;
  if (fresh.some((range) => range.last - range.first + 1n > widest[range.family])) return 'too-wide';
  if (total[4] > PLAUSIBLE.maxV4Addresses || total[6] > PLAUSIBLE.maxV6Addresses) return 'too-much';
  return undefined;
}

interface SourceOutcome {
  readonly id: SourceId;
  readonly status: 'refreshed' | 'kept';
  readonly version: string;
  readonly ranges: number;
  /** Why the previous ranges were kept (no payloads, no upstream messages). */
  readonly reason?: 'download' | 'parse' | 'empty' | 'shrank' | 'implausible';
}

export interface IntelRefreshReport {
  readonly version: string;
  readonly previousVersion: string;
  readonly published: boolean;
  readonly sources: readonly SourceOutcome[];
}

interface IntelRefreshOptions {
  readonly s3: S3Client;
  /** Reads the snapshot functions use now (the previous one), unless `previous` is given. */
  readonly reader: S3Reader;
  readonly bucket: string;
  /** Upstream documents per source; defaults to the URLs of data/ipintel/PROVENANCE.md (sources.ts). */
  readonly upstream?: Partial<Record<SourceId, readonly SourceDocument[]>> | undefined;
  readonly fetchTimeoutMs?: number;
  /** What a failed source falls back to; defaults to the snapshot functions use now (S3, else bundled). */
  readonly previous?: IntelSnapshot;
  readonly now?: () => Date;
}

class SourceFailure extends Error {
  constructor(readonly reason: 'download' | 'parse') {
    super(reason);
  }
}

async function download(url: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    if (!response.ok) throw new Error(`status ${response.status}`);
    return await response.text();
  } catch {
    throw new SourceFailure('download');
  }
}

async function fetchSource(
  source: SourceDef,
  documents: readonly SourceDocument[],
  timeoutMs: number,
  reviewed: ReadonlyMap<number, HostingAsn>,
) {
  const ranges: IntelRange[] = [];
  const versions: string[] = [];
  for (const document of documents) {
    let text = await download(document.location, timeoutMs);
    let format = document.format;
    if (format === 'azure-download-page' && !text.trimStart().startsWith('{')) {
      const link = azureServiceTagsLink(text);
      if (link === undefined) throw new SourceFailure('parse');
      text = await download(new URL(link, document.location).toString(), timeoutMs);
      format = 'azure-service-tags';
    }
    try {
      const parsed = parseDocument(source, format, text, reviewed);
      ranges.push(...parsed.ranges);
      versions.push(parsed.version);
    } catch {
      throw new SourceFailure('parse');
    }
  }
  return { ranges, version: versions.join(' + ') };
}

/** Fresh ranges unless they lost more than half of the previous intervals of a family the source had. */
function shrank(fresh: readonly IntelRange[], previous: readonly IntelRange[]): boolean {
  const now = coverage(fresh);
  const before = coverage(previous);
  return now.v4 < before.v4 * MIN_KEPT_SHARE || now.v6 < before.v6 * MIN_KEPT_SHARE;
}

/**
 * Fetches every upstream list, keeps the previous ranges of any source that fails to download, parse,
 * looks broken or is implausible (see PLAUSIBLE), builds a snapshot and publishes it (`intel/<version>.bin`, then the `intel/latest.json`
 * pointer) unless it is identical to the previous one.
 */
export async function refreshIntel(options: IntelRefreshOptions): Promise<IntelRefreshReport> {
  const timeoutMs = options.fetchTimeoutMs ?? 60_000;
  const previous =
    options.previous ??
    (await new IntelSource({ s3: options.reader, bucket: options.bucket, firstWaitMs: timeoutMs }).get());
  const previousVersions = new Map(previous.header.sources.map((source) => [source.id, source.version]));

  const results = await Promise.all(
    SOURCES.map(async (source): Promise<{ outcome: SourceOutcome; ranges: SourceRanges }> => {
      const before = previous.rangesOf(source.id);
      const keep = (reason: SourceOutcome['reason']) => {
        const version = previousVersions.get(source.id) ?? 'none';
        return {
          outcome: { id: source.id, status: 'kept' as const, version, ranges: before.length, reason },
          ranges: { id: source.id, version, ranges: before },
        };
      };
      try {
        const fresh = await fetchSource(
          source,
          options.upstream?.[source.id] ?? source.upstream,
          timeoutMs,
          source.id === 'hosting-asn' ? reviewedHostingAsns() : new Map(),
        );
        if (fresh.ranges.length === 0) return keep('empty');
        if (shrank(fresh.ranges, before)) return keep('shrank');
        const why = implausible(fresh.ranges);
        if (why) {
          logger.error('intel source implausible', { source: source.id, why, ranges: fresh.ranges.length });
          return keep('implausible');
        }
        return {
          outcome: { id: source.id, status: 'refreshed', version: fresh.version, ranges: fresh.ranges.length },
          ranges: { id: source.id, version: fresh.version, ranges: fresh.ranges },
        };
      } catch (error) {
        return keep(error instanceof SourceFailure ? error.reason : 'parse');
      }
    }),
  );
  const outcomes = results.map((result) => result.outcome);
  for (const outcome of outcomes) {
    if (outcome.status === 'kept') logger.warn('intel source kept', { source: outcome.id, reason: outcome.reason });
  }

  const { bytes, manifest } = buildIntelSnapshot(results.map((result) => result.ranges));
  const published = manifest.version !== previous.version;
  if (published) {
    const key = intelSnapshotKey(manifest.version);
    await options.s3.send(
      new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: bytes, ContentType: 'application/octet-stream' }),
    );
    const pointer: IntelPointer = {
      version: manifest.version,
      key,
      builtAt: (options.now?.() ?? new Date()).toISOString(),
    };
    // The pointer goes last, so no reader ever follows it to a snapshot that is not there yet.
    await options.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: INTEL_POINTER_KEY,
        Body: JSON.stringify({ ...pointer, sources: outcomes }),
        ContentType: 'application/json',
      }),
    );
  }
  logger.info('intel refresh done', {
    intelVersion: manifest.version,
    published,
    refreshed: outcomes.filter((outcome) => outcome.status === 'refreshed').map((outcome) => outcome.id),
  });
  return { version: manifest.version, previousVersion: previous.version, published, sources: outcomes };
}
