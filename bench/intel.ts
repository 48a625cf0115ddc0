import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadIntelSnapshot } from '../shared/intel/lookup';
import { bigIntToAddress } from '../shared/intel/ranges';

interface IntelFigures {
  readonly snapshotBytes: number;
  /** Reading the file and building the views, as a cold container does. */
  readonly loadMs: number;
  readonly ipv4: { readonly lookupsPerSecond: number; readonly nsPerLookup: number };
  readonly ipv6: { readonly lookupsPerSecond: number; readonly nsPerLookup: number };
}

const snapshotFile = path.resolve(__dirname, '..', 'shared', 'intel', 'snapshot', 'ipintel.bin');

function addresses(family: 4 | 6, count: number): string[] {
  let state = 0x9e3779b9n;
  const next = () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return state;
  };
  return Array.from({ length: count }, () =>
    family === 4 ? bigIntToAddress(4, next() >> 32n) : bigIntToAddress(6, (0x2n << 124n) | (next() << 60n) | next()),
  );
}

/** IP-intelligence figures: cold load of the bundled snapshot and lookup throughput per family. */
export async function measureIntel(lookups = 200_000): Promise<IntelFigures> {
  const started = process.hrtime.bigint();
  const snapshot = loadIntelSnapshot(readFileSync(snapshotFile));
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;

  const rate = (ips: string[]) => {
    for (const ip of ips.slice(0, 10_000)) snapshot.lookup(ip); // warm-up
    let found = 0;
    const t = process.hrtime.bigint();
    for (const ip of ips) if (snapshot.lookup(ip)?.category !== undefined) found++;
    const ns = Number(process.hrtime.bigint() - t) / ips.length;
    return { lookupsPerSecond: Math.round(1e9 / ns), nsPerLookup: Math.round(ns), found };
  };
  const { found: _v4, ...ipv4 } = rate(addresses(4, lookups));
  const { found: _v6, ...ipv6 } = rate(addresses(6, lookups));
  return { snapshotBytes: statSync(snapshotFile).size, loadMs: Math.round(loadMs * 100) / 100, ipv4, ipv6 };
}
