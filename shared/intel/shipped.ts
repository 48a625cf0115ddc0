import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IntelRange } from './ranges';
import type { SourceRanges } from './snapshot';
import { parseDocument, SOURCES, type SourceDef } from './sources';

/** data/ipintel/ of the source tree: the copy of every list the project ships. */
export const SHIPPED_DATA_DIR = path.resolve(__dirname, '..', '..', 'data', 'ipintel');

/** Parses one source's shipped files. Throws when a file is missing or not in its format. */
export function readShippedSource(source: SourceDef, dataDir = SHIPPED_DATA_DIR): SourceRanges & { skipped: number } {
  const ranges: IntelRange[] = [];
  const versions: string[] = [];
  let skipped = 0;
  for (const document of source.shipped) {
    const parsed = parseDocument(source, document.format, readFileSync(path.join(dataDir, document.location), 'utf8'));
    ranges.push(...parsed.ranges);
    versions.push(parsed.version);
    skipped += parsed.skipped;
  }
  return { id: source.id, version: versions.join(' + '), ranges, skipped };
}

export function readShippedSources(dataDir = SHIPPED_DATA_DIR): Array<SourceRanges & { skipped: number }> {
  return SOURCES.map((source) => readShippedSource(source, dataDir));
}
