import type { IpIntel, IpIntelLookup } from '../../../shared/intel/types';
import {
  type ClickInput,
  type ClickScore,
  clickFacts,
  type EngineConfig,
  engineConfigFrom,
  scoreClick,
  velocityCountersFor,
} from '../../../shared/scoring';
import { InMemoryVelocityStore } from '../../../shared/store/velocity/memory';

/** A hand-built intel table standing in for the real snapshot. */
export function fakeIntel(entries: Record<string, Partial<IpIntel>> = {}): IpIntelLookup {
  return {
    version: 'test',
    lookup(ip: string): IpIntel | undefined {
      const known = entries[ip];
      return { ip, version: ip.includes(':') ? 6 : 4, ...known };
    },
  };
}

export const CHROME_DESKTOP =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
export const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';

/** The live path end to end with in-memory counters: facts → one increment → pure score. */
export class EngineHarness {
  nowMs: number;
  readonly store: InMemoryVelocityStore;
  constructor(
    readonly intel: IpIntelLookup = fakeIntel(),
    readonly config: EngineConfig = engineConfigFrom(),
    startMs = Date.UTC(2026, 4, 10, 12, 0, 0),
  ) {
    this.nowMs = startMs;
    this.store = new InMemoryVelocityStore(() => this.nowMs);
  }

  async click(input: Partial<ClickInput> & { ip: string }, atMs = this.nowMs): Promise<ClickScore> {
    this.nowMs = atMs;
    const facts = clickFacts({ propertyId: 'prop_test', userAgent: CHROME_DESKTOP, ...input }, this.intel);
    const counters = await this.store.increment(velocityCountersFor(facts, atMs));
    return scoreClick(this.config, facts, counters);
  }
}
