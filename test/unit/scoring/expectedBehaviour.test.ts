import { engineConfigFrom, rescoreClick } from '../../../shared/scoring';
import { CHROME_ANDROID, CHROME_DESKTOP, EngineHarness, fakeIntel, SAFARI_IPHONE } from './fixtures';

const AWS_IP = '3.5.140.2';
const TOR_IP = '185.220.101.4';
const GOOGLEBOT_IP = '66.249.66.1';
const HOME_IP = '81.2.69.160';
const CARRIER_IP = '100.64.12.7';
const intel = fakeIntel({
  [AWS_IP]: { cloud: { provider: 'AWS', service: 'EC2', region: 'eu-central-1' } },
  [TOR_IP]: { tor: true },
  [GOOGLEBOT_IP]: { crawler: { name: 'Googlebot' } },
});
const rank = { CLEAN: 0, SUSPICIOUS: 1, FRAUD: 2 } as const;

describe('expected behaviour from issue 3', () => {
  it('a click from a cloud range with a browser agent is at least SUSPICIOUS, naming the provider', async () => {
    const v = await new EngineHarness(intel).click({ ip: AWS_IP, userAgent: CHROME_DESKTOP });
    expect(rank[v.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
    expect(v.reasons.find((r) => r.rule === 'datacenter_ip')?.details).toContain('AWS');
  });

  it.each([
    ['curl/8.5.0'],
    ['python-requests/2.31.0'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36'],
    ['Go-http-client/2.0'],
  ])('a cloud click with a script or headless agent (%s) is FRAUD', async (ua) => {
    const v = await new EngineHarness(intel).click({ ip: AWS_IP, userAgent: ua });
    expect(v.label).toBe('FRAUD');
    expect(v.action).toBe('BLOCK');
    expect(v.rules).toEqual(expect.arrayContaining(['datacenter_ip', 'automation_ua']));
  });

  it('a Tor exit is at least SUSPICIOUS', async () => {
    const v = await new EngineHarness(intel).click({ ip: TOR_IP });
    expect(rank[v.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
  });

  it('a declared crawler (agent or published range) is at least SUSPICIOUS', async () => {
    const byAgent = await new EngineHarness(intel).click({
      ip: HOME_IP,
      userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    });
    const byRange = await new EngineHarness(intel).click({ ip: GOOGLEBOT_IP });
    expect(rank[byAgent.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
    expect(rank[byRange.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
  });

  it('a honeypot click is FRAUD', async () => {
    const v = await new EngineHarness(intel).click({ ip: HOME_IP });
    expect(v.label).toBe('CLEAN');
    const after = rescoreClick(engineConfigFrom(), v.signals, { behaviour: { honeypot: true, timeOnPageSeconds: 20 } });
    expect(after.label).toBe('FRAUD');
  });

  it('the same gclid arriving a second time is at least SUSPICIOUS', async () => {
    const h = new EngineHarness(intel);
    const first = await h.click({ ip: HOME_IP, gclid: 'CjwKCAjw-abc' });
    const second = await h.click({ ip: '81.2.70.1', gclid: 'CjwKCAjw-abc' }, h.nowMs + 3_600_000);
    expect(first.label).toBe('CLEAN');
    expect(rank[second.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
    expect(second.rules).toContain('duplicate_gclid');
  });

  // Starting offsets across minute, hour and day boundaries: fixed windows must not split the burst.
  it.each([0, 1, 59_000, 299_000, 1_799_000, 3_599_000, 86_399_000, 43_123_456])(
    'one address clicking eight times in ten minutes ends FRAUD (start offset %i ms)',
    async (offset) => {
      const h = new EngineHarness(intel, engineConfigFrom(), Date.UTC(2026, 4, 10) + offset);
      const start = h.nowMs;
      let last = await h.click({ ip: HOME_IP }, start);
      for (let i = 1; i < 8; i++) last = await h.click({ ip: HOME_IP }, start + Math.round((i * 599_000) / 7));
      expect(last.label).toBe('FRAUD');
    },
  );

  it('leaving within a second with no interaction is at least SUSPICIOUS (desktop and touch)', async () => {
    for (const ua of [CHROME_DESKTOP, SAFARI_IPHONE]) {
      const v = await new EngineHarness(intel).click({ ip: HOME_IP, userAgent: ua });
      const after = rescoreClick(engineConfigFrom(), v.signals, {
        behaviour: { timeOnPageSeconds: 0.4, scrollDepth: 0, mouseEntropy: 0 },
      });
      expect(rank[after.label]).toBeGreaterThanOrEqual(rank.SUSPICIOUS);
    }
  });

  it('an ordinary visitor on a home or mobile connection with a real browser is CLEAN', async () => {
    for (const ua of [CHROME_DESKTOP, SAFARI_IPHONE, CHROME_ANDROID]) {
      const h = new EngineHarness(intel);
      const v = await h.click({ ip: HOME_IP, userAgent: ua, visitorId: 'vis_one', gclid: 'g1' });
      expect(v.label).toBe('CLEAN');
      expect(v.score).toBe(0);
      const read = rescoreClick(engineConfigFrom(), v.signals, {
        behaviour: { timeOnPageSeconds: 48, scrollDepth: 70, mouseEntropy: ua === CHROME_DESKTOP ? 900 : 0 },
      });
      expect(read.label).toBe('CLEAN');
    }
  });

  it('several people behind one carrier address stay CLEAN', async () => {
    const h = new EngineHarness(intel);
    const start = h.nowMs;
    const verdicts = [];
    // Twelve people on one CGNAT address click the same campaign within 40 minutes, some twice.
    for (let i = 0; i < 16; i++) {
      const person = i % 12;
      verdicts.push(
        await h.click(
          {
            ip: CARRIER_IP,
            userAgent: person % 2 ? SAFARI_IPHONE : CHROME_ANDROID,
            visitorId: `vis_person${person}`,
            pageUrl: 'https://shop.example/landing?campaignid=111&network=g',
          },
          start + i * 150_000,
        ),
      );
    }
    for (const v of verdicts) expect(v.label).toBe('CLEAN');
  });

  it('a converted visitor gains trust', async () => {
    const v = await new EngineHarness(intel).click({ ip: AWS_IP });
    const converted = rescoreClick(engineConfigFrom(), v.signals, { converted: true });
    expect(converted.score).toBeLessThan(v.score);
    expect(converted.reasons.find((r) => r.rule === 'converted')?.score).toBeLessThan(0);
  });
});
