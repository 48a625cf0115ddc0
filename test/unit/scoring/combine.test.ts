import fc from 'fast-check';
import { botLevelFor, combineWeights, engineConfigFrom, labelFor } from '../../../shared/scoring';

const weight = fc.double({ min: 0, max: 1, noNaN: true });

describe('combineWeights', () => {
  it('is bounded in [0, 100]', () => {
    fc.assert(
      fc.property(fc.array(weight, { maxLength: 30 }), (ws) => {
        const s = combineWeights(ws);
        return s >= 0 && s <= 100;
      }),
    );
  });

  it('never decreases when a signal is added or strengthened', () => {
    fc.assert(
      fc.property(fc.array(weight, { maxLength: 20 }), weight, fc.nat(), weight, (ws, extra, at, boost) => {
        const base = combineWeights(ws);
        if (combineWeights([...ws, extra]) < base - 1e-9) return false;
        if (ws.length === 0) return true;
        const i = at % ws.length;
        const stronger = ws.map((w, j) => (j === i ? Math.min(1, w + boost) : w));
        return combineWeights(stronger) >= base - 1e-9;
      }),
    );
  });

  it('is at least the strongest single signal and order-independent', () => {
    fc.assert(
      fc.property(fc.array(weight, { minLength: 1, maxLength: 20 }), (ws) => {
        const s = combineWeights(ws);
        const reversed = combineWeights([...ws].reverse());
        return s >= 100 * Math.max(...ws) - 1e-9 && Math.abs(s - reversed) < 1e-9;
      }),
    );
  });

  it('lets weak signals add up with diminishing returns', () => {
    expect(combineWeights([0.2, 0.2])).toBeCloseTo(36);
    expect(combineWeights([0.2, 0.2, 0.2])).toBeCloseTo(48.8);
  });
});

describe('bands and bot levels', () => {
  it('maps the contract bands and levels at their edges', () => {
    const t = engineConfigFrom().thresholds;
    expect([39, 40, 69, 70].map((s) => labelFor(s, t))).toEqual(['CLEAN', 'SUSPICIOUS', 'SUSPICIOUS', 'FRAUD']);
    expect([39, 40, 69, 70, 89, 90].map(botLevelFor)).toEqual(['low', 'medium', 'medium', 'high', 'high', 'critical']);
  });
});
