import { bigIntToAddress, type IntelRange } from '../../../shared/intel/ranges';

/** Deterministic PRNG (mulberry32) so sampled addresses are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  if (items.length === 0) return [];
  return Array.from({ length: count }, () => items[Math.floor(random() * items.length)]!);
}

/** A random address inside the range. */
export function addressIn(range: IntelRange, random: () => number): string {
  const span = range.last - range.first + 1n;
  const offset = (BigInt(Math.floor(random() * 2 ** 32)) * BigInt(Math.floor(random() * 2 ** 32))) % span;
  return bigIntToAddress(range.family, range.first + offset);
}
