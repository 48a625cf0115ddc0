import fc from 'fast-check';
import { type CounterValues, clickFacts, clickSignals, smoothedRate, sourceQualityFrom } from '../../../shared/scoring';
import { CHROME_DESKTOP, fakeIntel } from './fixtures';

describe('conversion feedback', () => {
  const property = { clicks: 10_000, conversions: 300 };

  it('flags a source with many clicks and no conversions, not one with few clicks', () => {
    const q = sourceQualityFrom(
      {
        'placement:junk.example': { clicks: 2000, conversions: 0 },
        'placement:new.example': { clicks: 40, conversions: 0 },
        'campaign:1': { clicks: 5000, conversions: 160 },
      },
      property,
    );
    expect(Object.keys(q.flagged)).toEqual(['placement:junk.example']);
  });

  it('flags nothing when the property does not track conversions', () => {
    const q = sourceQualityFrom(
      { 'placement:junk.example': { clicks: 5000, conversions: 0 } },
      { clicks: 9000, conversions: 0 },
    );
    expect(q.tracksConversions).toBe(false);
    expect(q.flagged).toEqual({});
  });

  it('raises the score of clicks from a flagged source only', () => {
    const q = sourceQualityFrom({ 'placement:junk.example': { clicks: 2000, conversions: 0 } }, property);
    const facts = (placement: string) =>
      clickFacts(
        { propertyId: 'prop_p', ip: '203.0.113.1', userAgent: CHROME_DESKTOP, pageUrl: `/?placement=${placement}` },
        fakeIntel(),
      );
    const none: CounterValues = {};
    expect(clickSignals(facts('junk.example'), none, q).map((s) => s.rule)).toEqual(['low_quality_source']);
    expect(clickSignals(facts('good.example'), none, q)).toEqual([]);
  });

  it('smooths towards the prior and stays between the observed and prior rates', () => {
    fc.assert(
      fc.property(
        fc.nat(100_000),
        fc.nat(100_000),
        fc.double({ min: 0.0001, max: 1, noNaN: true }),
        (clicks, conv, prior) => {
          const conversions = Math.min(conv, clicks);
          const r = smoothedRate({ clicks, conversions }, prior);
          const observed = clicks === 0 ? prior : conversions / clicks;
          return r >= Math.min(observed, prior) - 1e-12 && r <= Math.max(observed, prior) + 1e-12;
        },
      ),
    );
  });
});
