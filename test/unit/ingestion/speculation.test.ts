import fc from 'fast-check';
import { recordClick } from '../../../shared/ingestion/clicks';
import { CorrectionShare, MAX_CORRECTED } from '../../../shared/ingestion/speculation';
import { CHROME, HOME_IP, harness } from './fixtures';

describe('CorrectionShare', () => {
  it('speculates on an unknown property, stops when corrections are common and resumes when they are rare', () => {
    const share = new CorrectionShare();
    expect(share.speculate('prop_a')).toBe(true);
    for (let i = 0; i < 10; i++) share.record('prop_a', true);
    expect(share.speculate('prop_a')).toBe(false);
    expect(share.speculate('prop_b')).toBe(true);
    for (let i = 0; i < 200; i++) share.record('prop_a', false);
    expect(share.speculate('prop_a')).toBe(true);
  });

  it('keeps speculating while at most the allowed share of clicks is corrected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 20, max: 400 }), (seed, clicks) => {
        const share = new CorrectionShare();
        // A steady share below the bound, in any order: never stops speculating for long.
        const every = Math.ceil(1 / (MAX_CORRECTED / 2));
        let stopped = 0;
        for (let i = 0; i < clicks; i++) {
          share.record('p', (i + seed) % every === 0);
          if (!share.speculate('p')) stopped++;
        }
        return stopped === 0;
      }),
    );
  });
});

describe('recordClick where counts often change what a first click stores', () => {
  it('stores the click after its counts: no correcting write, one count message per click', async () => {
    const h = harness();
    const corrections = new CorrectionShare();
    const deps = { ...h.deps, corrections };
    const answers = [];
    // One visitor clicking again and again from one address: every click after the first is corrected.
    for (let i = 0; i < 12; i++) {
      h.clock += 5 * 60_000;
      answers.push(
        await recordClick(deps, {
          kind: 'public',
          propertyId: 'prop_a',
          sourceIp: HOME_IP,
          userAgent: CHROME,
          visitorId: 'vis_again',
          gclid: `g-again-${i}`,
        }),
      );
    }
    expect(corrections.speculate('prop_a')).toBe(false);
    const last = answers.at(-1);
    const stored = await h.clickStores.clicks.getClick(last?.click_id ?? '');
    // Written once, with the verdict answered.
    expect(stored).toMatchObject({ version: 1, atClick: { score: last?.score } });
    expect(stored?.reasons).toEqual(last?.reasons);
    expect(h.counts.filter((m) => m.clickId === last?.click_id)).toHaveLength(1);
    // The other property still speculates.
    expect(corrections.speculate('prop_b')).toBe(true);
  });
});
