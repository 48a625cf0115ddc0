import { engineConfigFrom, rescoreClick } from '../../../shared/scoring';
import { EngineHarness, fakeIntel } from './fixtures';

const intel = fakeIntel({ '3.5.140.2': { cloud: { provider: 'AWS' } } });

describe('per-property configuration', () => {
  it('defaults to 40/70, enforcing, and the contract bot actions', () => {
    const c = engineConfigFrom();
    expect(c.thresholds).toEqual({ suspicious: 40, fraud: 70 });
    expect(c.monitorOnly).toBe(false);
    expect(c.botActions).toEqual({ low: 'record_only', medium: 'flag', high: 'flag', critical: 'challenge' });
  });

  it('scores an allowlisted address 0 with reason allowlisted (IPv4 CIDR, IPv6 prefix, single address)', async () => {
    const config = engineConfigFrom({ allowlist: ['3.5.0.0/16', '2001:db8::/32', '198.51.100.7'] });
    for (const ip of ['3.5.140.2', '2001:db8:1::5', '198.51.100.7', '::ffff:3.5.1.1']) {
      const v = await new EngineHarness(intel, config).click({ ip, userAgent: 'curl/8.0' });
      expect(v.score).toBe(0);
      expect(v.reasons).toEqual([expect.objectContaining({ rule: 'allowlisted' })]);
    }
    const outside = await new EngineHarness(intel, config).click({ ip: '3.6.0.1', userAgent: 'curl/8.0' });
    expect(outside.score).toBeGreaterThan(0);
  });

  it('never blocks in monitor-only mode but still labels FRAUD', async () => {
    const v = await new EngineHarness(intel, engineConfigFrom({ monitorOnly: true })).click({
      ip: '3.5.140.2',
      userAgent: 'curl/8.0',
    });
    expect(v.label).toBe('FRAUD');
    expect(v.action).toBe('FLAG');
  });

  it('applies rule multipliers (0 disables) and moved thresholds', async () => {
    const base = await new EngineHarness(intel).click({ ip: '3.5.140.2' });
    const off = rescoreClick(engineConfigFrom({ ruleWeights: { datacenter_ip: 0 } }), base.signals, {});
    expect(off.score).toBe(0);
    const doubled = rescoreClick(engineConfigFrom({ ruleWeights: { datacenter_ip: 2 } }), base.signals, {});
    expect(doubled.score).toBe(90);
    expect(doubled.botAction).toBe('challenge');
    const strict = rescoreClick(engineConfigFrom({ thresholds: { suspicious: 20, fraud: 45 } }), base.signals, {});
    expect(strict.label).toBe('FRAUD');
  });
});
