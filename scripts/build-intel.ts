import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readShippedSources, SHIPPED_DATA_DIR } from '../shared/intel/shipped';
import { buildIntelSnapshot } from '../shared/intel/snapshot';

/**
 * `npm run intel:build`: data/ipintel/ → shared/intel/snapshot/ipintel.bin (+ ipintel.manifest.json).
 * The .bin depends only on the lists, so rebuilding unchanged data leaves the checked-in file unchanged.
 */
const outDir = path.resolve(__dirname, '..', 'shared', 'intel', 'snapshot');

const started = process.hrtime.bigint();
const sources = readShippedSources(SHIPPED_DATA_DIR);
const { bytes, manifest } = buildIntelSnapshot(sources);
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'ipintel.bin'), bytes);
writeFileSync(
  path.join(outDir, 'ipintel.manifest.json'),
  `${JSON.stringify({ ...manifest, builtAt: new Date().toISOString() }, null, 2)}\n`,
);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
for (const source of sources) {
  if (source.skipped > 0) console.warn(`${source.id}: skipped ${source.skipped} malformed lines`);
}
console.log(
  `intel snapshot ${manifest.version}: ${(bytes.length / 1024 / 1024).toFixed(2)} MiB, ` +
    `${manifest.segments.v4} IPv4 + ${manifest.segments.v6} IPv6 segments, ${manifest.combos} combos, ${ms.toFixed(0)} ms`,
);
