import fc from 'fast-check';
import {
  type CounterValues,
  clickFacts,
  clickSignals,
  engineConfigFrom,
  learnedWeight,
  SLOTS_PER_DIMENSION,
  SourceTally,
  scoreClick,
  smoothedRate,
  sourceKeys,
  statsKey,
  surpriseDecades,
} from '../../../shared/scoring';
import { CHROME_DESKTOP, fakeIntel, SAFARI_IPHONE } from './fixtures';

const facts = (query: string) =>
  clickFacts(
    { propertyId: 'prop_p', ip: '203.0.113.1', userAgent: CHROME_DESKTOP, pageUrl: `https://shop.example/?${query}` },
    fakeIntel(),
  );

/** A property converting at `rate` over `clicks` spread on ordinary placements, plus extra sources. */
function property(rate: number, clicks: number, extra: { query: string; clicks: number; conversions: number }[] = []) {
  const tally = new SourceTally();
  const good = Math.round(clicks * rate);
  tally.apply([
    { sources: sourceKeys({ placement: 'good.example' }), clicks: clicks - good, conversions: 0 },
    { sources: sourceKeys({ placement: 'good.example' }), clicks: good, conversions: good },
  ]);
  for (const e of extra)
    tally.apply([{ sources: facts(e.query).sources, clicks: e.clicks, conversions: e.conversions }]);
  return tally.quality();
}

const none: CounterValues = {};
const config = engineConfigFrom();

describe('the learned component', () => {
  it('a placement with 650 clicks and no conversion where the property converts at 3.8 % is SUSPICIOUS on its own, with the numbers', () => {
    const q = property(0.038, 20_000, [{ query: 'placement=free-coins.example', clicks: 650, conversions: 0 }]);
    const verdict = scoreClick(config, facts('placement=free-coins.example'), none, q);
    expect(verdict.label).toBe('SUSPICIOUS');
    expect(verdict.reasons[0]?.rule).toBe('low_quality_source');
    expect(verdict.reasons[0]?.details).toBe(
      'placement free-coins.example: 0 conversions in 650 clicks; property 3.7 %',
    );
    // A click from a placement converting at the property's rate only gets the ranking term: a few points.
    const good = scoreClick(config, facts('placement=good.example'), none, q);
    expect(good.label).toBe('CLEAN');
    expect(good.score).toBeGreaterThan(0);
    expect(good.score).toBeLessThanOrEqual(5);
  });

  it('says nothing while the property does not track conversions', () => {
    const q = property(0, 20_000, [{ query: 'placement=junk.example', clicks: 5_000, conversions: 0 }]);
    expect(q.tracksConversions).toBe(false);
    expect(clickSignals(facts('placement=junk.example'), none, q)).toEqual([]);
  });

  it('names the strongest of the click’s sources (campaign × placement when only that pairing is bad)', () => {
    const q = property(0.04, 20_000, [
      { query: 'campaignid=7&placement=fine.example', clicks: 2_000, conversions: 80 },
      { query: 'campaignid=8&placement=fine.example', clicks: 600, conversions: 0 },
      { query: 'campaignid=8&placement=other.example', clicks: 2_000, conversions: 80 },
    ]);
    const signal = clickSignals(facts('campaignid=8&placement=fine.example'), none, q)[0];
    expect(signal?.details).toMatch(/^campaign\+placement 8\|fine\.example: 0 conversions in 600 clicks/);
  });

  it('keeps a bounded key space whatever values clicks carry', () => {
    const tally = new SourceTally();
    for (let i = 0; i < 10_000; i++) {
      const value = `${i}-${'x'.repeat(190)}`;
      tally.apply([
        { sources: sourceKeys({ placement: value, keyword: value, campaignid: value }), clicks: 1, conversions: 0 },
      ]);
    }
    // placement, keyword, campaign and campaign × placement: at most SLOTS_PER_DIMENSION keys each.
    expect(tally.size).toBeLessThanOrEqual(4 * SLOTS_PER_DIMENSION);
    expect(statsKey(`placement:${'y'.repeat(200)}`)?.length).toBeLessThanOrEqual(4);
    expect(statsKey('unknown:thing')).toBeUndefined();
  });

  const rate = fc.double({ min: 0.002, max: 0.3, noNaN: true });
  const stats = fc
    .nat(100_000)
    .chain((clicks) => fc.record({ clicks: fc.constant(clicks), conversions: fc.nat(clicks) }));

  it('little evidence never flags: fewer than 8 expected conversions never reach SUSPICIOUS (0.4)', () => {
    fc.assert(
      fc.property(rate, fc.double({ min: 0, max: 8, noNaN: true }), fc.nat(8), (p, expected, conv) => {
        const clicks = Math.floor(expected / p);
        return learnedWeight({ clicks, conversions: Math.min(conv, clicks) }, p) < 0.4;
      }),
    );
  });

  it('is monotone: more clicks without conversions never lowers the weight, more conversions never raises it', () => {
    fc.assert(
      fc.property(rate, stats, fc.nat(5_000), fc.nat(100), (p, s, moreClicks, moreConversions) => {
        const base = learnedWeight(s, p);
        const clicks = learnedWeight({ clicks: s.clicks + moreClicks, conversions: s.conversions }, p);
        const conversions = learnedWeight(
          { clicks: s.clicks, conversions: Math.min(s.clicks, s.conversions + moreConversions) },
          p,
        );
        return clicks >= base - 1e-12 && conversions <= base + 1e-12;
      }),
    );
  });

  it('stays within [0, 0.6]: the learned part alone is never FRAUD, and a source converting at the property rate only ranks (≤ 0.03)', () => {
    fc.assert(
      fc.property(rate, stats, (p, s) => {
        const w = learnedWeight(s, p);
        const atRate = learnedWeight({ clicks: s.clicks, conversions: Math.ceil(s.clicks * p) }, p);
        return w >= 0 && w <= 0.6 && atRate <= 0.03;
      }),
    );
  });

  it('is continuous: with history, a source below the property rate scores above one at it, which scores above one above it', () => {
    fc.assert(
      fc.property(rate, fc.integer({ min: 2_000, max: 100_000 }), (p, clicks) => {
        const at = (factor: number) => learnedWeight({ clicks, conversions: Math.round(clicks * p * factor) }, p);
        return at(0.5) > at(1) && at(1) > at(2) && at(2) > 0;
      }),
    );
  });

  it('overwhelming evidence decides: hundreds of clicks, no conversion, a few percent elsewhere → ≥ 0.4', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.02, max: 0.2, noNaN: true }),
        fc.integer({ min: 600, max: 100_000 }),
        (p, clicks) => {
          return learnedWeight({ clicks, conversions: 0 }, p) >= 0.4;
        },
      ),
    );
  });

  it('smooths towards the prior and stays between the observed and prior rates', () => {
    fc.assert(
      fc.property(stats, fc.double({ min: 0.0001, max: 1, noNaN: true }), (s, prior) => {
        const r = smoothedRate(s, prior);
        const observed = s.clicks === 0 ? prior : s.conversions / s.clicks;
        return r >= Math.min(observed, prior) - 1e-12 && r <= Math.max(observed, prior) + 1e-12;
      }),
    );
  });

  describe('per individual actor (this address, this /24 or /64, this visitor)', () => {
    const q = property(0.038, 20_000);
    const reasonOf = (verdict: ReturnType<typeof scoreClick>) =>
      verdict.reasons.find((r) => r.rule === 'repeat_actor')?.details;

    it('an address with hundreds of clicks and no conversion is SUSPICIOUS, with its own numbers', () => {
      const verdict = scoreClick(config, facts(''), { ip_clicks: 601, ip_conversions: 0, ip_1d: 1 }, q);
      expect(verdict.label).toBe('SUSPICIOUS');
      expect(reasonOf(verdict)).toBe('address 203.0.113.1: 0 conversions in 600 clicks; property 3.8 %');
    });

    it('little evidence ranks but never flags; an address converting at the property rate only ranks', () => {
      const few = scoreClick(config, facts(''), { ip_clicks: 39, ip_conversions: 0 }, q);
      expect(few.label).toBe('CLEAN');
      expect(reasonOf(few)).toBe('address 203.0.113.1: 0 conversions in 38 clicks; property 3.8 %');
      const converting = scoreClick(config, facts(''), { ip_clicks: 1001, ip_conversions: 40 }, q);
      expect(converting.score).toBeLessThanOrEqual(few.score);
      expect(converting.score).toBeLessThanOrEqual(5);
    });

    it('a carrier address shared by real mobile browsers says nothing about one of them', () => {
      const mobile = clickFacts({ propertyId: 'prop_p', ip: '172.56.16.10', userAgent: SAFARI_IPHONE }, fakeIntel());
      const verdict = scoreClick(config, mobile, { ip_clicks: 5_001, ip_conversions: 0, ip_visitors_1h: 40 }, q);
      expect(verdict.label).toBe('CLEAN');
      expect(reasonOf(verdict) ?? '').not.toMatch(/^address/);
    });

    it("a /24's clicks only rank (one address's clicks cannot flag its neighbours); a visitor's can decide", () => {
      const subnet = scoreClick(config, facts(''), { subnet_clicks: 50_001, subnet_conversions: 0 }, q);
      expect(subnet.label).toBe('CLEAN');
      expect(reasonOf(subnet)).toBe('subnet 203.0.113.0/24: 0 conversions in 50000 clicks; property 3.8 %');
      const visitor = clickFacts(
        { propertyId: 'prop_p', ip: '203.0.113.1', userAgent: CHROME_DESKTOP, visitorId: 'vis_1' },
        fakeIntel(),
      );
      const verdict = scoreClick(config, visitor, { visitor_clicks: 701, visitor_conversions: 0 }, q);
      expect(verdict.label).toBe('SUSPICIOUS');
      expect(reasonOf(verdict)).toBe('visitor vis_1: 0 conversions in 700 clicks; property 3.8 %');
    });
  });

  it('measures surprise with the Poisson tail bound', () => {
    expect(surpriseDecades(0, 24.7)).toBeCloseTo(24.7 / Math.LN10, 6);
    expect(surpriseDecades(10, 10)).toBe(0);
    expect(surpriseDecades(3, 10)).toBeLessThan(surpriseDecades(2, 10));
  });
});
