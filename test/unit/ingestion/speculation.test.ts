import fc from 'fast-check';
import { recordClick } from '../../../shared/ingestion/clicks';
import { CLICK_WRITE_GRACE_MS } from '../../../shared/ingestion/counting';
import { CorrectionShare, MAX_CORRECTED } from '../../../shared/ingestion/speculation';
import type { StoredClick } from '../../../shared/store/clicks';
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

describe('the click path in one or two rounds, whatever fails', () => {
  it('stores every answered click once with the verdict answered, counts it once, and leaves refused ones uncounted or stored once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            address: fc.integer({ min: 0, max: 5 }),
            visitor: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
            gclid: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
            gapMs: fc.integer({ min: 0, max: 120_000 }),
            fail: fc.constantFrom('none', 'none', 'none', 'counts', 'message', 'correction'),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        fc.boolean(),
        async (clicks, adaptive) => {
          const h = harness();
          const deps = adaptive ? { ...h.deps, corrections: new CorrectionShare() } : h.deps;
          const countClick = h.store.countClick.bind(h.store);
          const update = h.clickStores.clicks.updateClickOutcome.bind(h.clickStores.clicks);
          const answered: Awaited<ReturnType<typeof recordClick>>[] = [];
          for (const click of clicks) {
            h.clock += click.gapMs;
            h.store.countClick =
              click.fail === 'counts'
                ? async () => {
                    throw new Error('throttled');
                  }
                : countClick;
            h.failNextSend = click.fail === 'message';
            h.clickStores.clicks.updateClickOutcome =
              click.fail === 'correction'
                ? async () => {
                    throw new Error('timed out');
                  }
                : update;
            const answer = await recordClick(deps, {
              kind: 'public',
              propertyId: 'prop_a',
              sourceIp: `81.2.69.${10 + click.address}`,
              userAgent: CHROME,
              visitorId: click.visitor === undefined ? undefined : `vis_p${click.visitor}`,
              gclid: click.gclid === undefined ? undefined : `g-p${click.gclid}`,
            }).catch(() => undefined);
            h.failNextSend = false;
            if (answer) answered.push(answer);
          }
          h.clickStores.clicks.updateClickOutcome = update;
          for (const answer of answered) {
            const stored = await h.clickStores.clicks.getClick(answer.click_id);
            if (stored?.atClick.score !== answer.score) return false;
            // (JSON: the in-memory store's copies come from another realm than jest's.)
            if (JSON.stringify(stored.reasons) !== JSON.stringify(answer.reasons)) return false;
          }
          h.clock += CLICK_WRITE_GRACE_MS;
          await h.count();
          const stored: StoredClick[] = [];
          for await (const click of h.clickStores.clicks.clicksInRange('prop_a', 0, Number.MAX_SAFE_INTEGER)) {
            stored.push(click);
          }
          const counted = await h.clickStores.counts.counted(stored.map((c) => c.clickId));
          const day = (await h.clickStores.rollups.readDays('prop_a', ['2026-06-01', '2026-06-02'])) as Map<
            string,
            { clicks: number }
          >;
          const rolled = [...day.values()].reduce((sum, d) => sum + (d?.clicks ?? 0), 0);
          // Every answered click is stored; every stored click is counted once; nothing else is.
          return (
            answered.every((a) => stored.some((s) => s.clickId === a.click_id)) &&
            counted.size === stored.length &&
            rolled === stored.length
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
