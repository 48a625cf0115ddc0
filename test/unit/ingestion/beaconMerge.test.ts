import { applyBeacon, BeaconMessage } from '../../../shared/ingestion';
import { acceptBeacon, ClickNotYetStoredError } from '../../../shared/ingestion/beacons';
import { recordClick } from '../../../shared/ingestion/clicks';
import { recordEvent } from '../../../shared/ingestion/events';
import { mergeBehaviour } from '../../../shared/scoring';
import { CHROME, HOME_IP, harness } from './fixtures';

const click = (gclid: string) => ({
  kind: 'public' as const,
  propertyId: 'prop_a',
  sourceIp: HOME_IP,
  userAgent: CHROME,
  gclid,
  pageUrl: `https://shop.example/landing?gclid=${gclid}`,
});

/** What the beacon handler queued, applied as the beacon scorer would (the message parsed from JSON). */
async function deliverLast(h: ReturnType<typeof harness>) {
  const sent = h.sent.at(-1);
  if (sent?.queue !== 'beacons') throw new Error('no beacon queued');
  return applyBeacon(h.deps, BeaconMessage.parse(JSON.parse(JSON.stringify(sent.message))));
}

describe('mergeBehaviour', () => {
  it('only accumulates: touch stays, dwell, scroll and entropy keep their maximum', () => {
    const first = { timeOnPageSeconds: 1.7, scrollDepth: 10, mouseEntropy: 900, honeypot: false, touch: true };
    expect(mergeBehaviour(first, { timeOnPageSeconds: 95, scrollDepth: 0, mouseEntropy: 0, touch: false })).toEqual({
      timeOnPageSeconds: 95,
      scrollDepth: 10,
      mouseEntropy: 900,
      honeypot: false,
      touch: true,
    });
    expect(mergeBehaviour({ scrollDepth: 40 }, { mouseEntropy: 3 })).toEqual({ scrollDepth: 40, mouseEntropy: 3 });
  });

  it('freezes the evidence once the honeypot was seen', () => {
    const trapped = { timeOnPageSeconds: 0.4, scrollDepth: 0, mouseEntropy: 0, honeypot: true };
    expect(mergeBehaviour(trapped, { timeOnPageSeconds: 95, scrollDepth: 90, honeypot: false })).toEqual(trapped);
  });
});

describe('beacons merge on the click', () => {
  it('keeps honeypot FRAUD when a later forged beacon reports a perfect human', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, click('g-hp'));
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      clickId: answer.click_id,
      behaviour: { timeOnPageSeconds: 0.4, scrollDepth: 0, mouseEntropy: 0, honeypot: true },
    });
    expect(await deliverLast(h)).toBe('applied');
    const fraud = await h.clickStores.clicks.getClick(answer.click_id);
    expect(fraud?.current.label).toBe('FRAUD');
    h.clock += 1000;
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      clickId: answer.click_id,
      behaviour: { timeOnPageSeconds: 600, scrollDepth: 100, mouseEntropy: 2500, honeypot: false, touch: true },
    });
    expect(await deliverLast(h)).toBe('applied');
    const after = await h.clickStores.clicks.getClick(answer.click_id);
    expect(after?.current.score).toBe(fraud!.current.score);
    expect(after?.reasons.map((r) => r.rule)).toContain('honeypot');
  });

  it('lets a reader who looked away come back: later running totals clear a short first beacon', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, click('g-reader'));
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      clickId: answer.click_id,
      behaviour: { timeOnPageSeconds: 1.7, scrollDepth: 0, mouseEntropy: 400 },
    });
    await deliverLast(h);
    expect((await h.clickStores.clicks.getClick(answer.click_id))?.reasons.map((r) => r.rule)).toEqual(
      expect.arrayContaining(['short_dwell', 'no_scroll']),
    );
    h.clock += 120_000;
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      clickId: answer.click_id,
      behaviour: { timeOnPageSeconds: 121.7, scrollDepth: 85, mouseEntropy: 2100 },
    });
    await deliverLast(h);
    const after = await h.clickStores.clicks.getClick(answer.click_id);
    expect(after?.reasons.map((r) => r.rule)).not.toContain('short_dwell');
    expect(after?.current.label).toBe('CLEAN');
  });

  it('joins a beacon sent before the click answer to its click by gclid, delayed so it rarely overtakes it', async () => {
    const h = harness();
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      gclid: 'g-fast',
      behaviour: { timeOnPageSeconds: 0.4, scrollDepth: 0, mouseEntropy: 0 },
    });
    expect(h.sent.at(-1)?.message).not.toHaveProperty('clickId');
    // The click is not stored yet: the scorer fails the message so SQS delivers it again.
    await expect(deliverLast(h)).rejects.toBeInstanceOf(ClickNotYetStoredError);
    const answer = await recordClick(h.deps, click('g-fast'));
    h.clock += 5000;
    expect(await deliverLast(h)).toBe('applied');
    const judged = await h.clickStores.clicks.getClick(answer.click_id);
    expect(judged?.reasons.map((r) => r.rule)).toEqual(expect.arrayContaining(['short_dwell', 'no_pointer']));
    expect(judged!.current.score).toBeGreaterThan(answer.score);
  });

  it("drops a gclid beacon once its click cannot appear any more, and never joins another property's click", async () => {
    const h = harness();
    await recordClick(h.deps, { ...click('g-other'), propertyId: 'prop_b' });
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      gclid: 'g-other',
      behaviour: { honeypot: true },
    });
    h.clock += 10 * 60_000;
    expect(await deliverLast(h)).toBe('dropped');
  });
});

describe('plausible dwell', () => {
  it('caps a claimed dwell to the time since the click reached the API', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, click('g-forged'));
    const base = { propertyId: 'prop_a', clickId: answer.click_id };
    await acceptBeacon(h.deps, {
      ...base,
      receivedAt: h.clock,
      behaviour: { timeOnPageSeconds: 0.3, mouseEntropy: 0 },
    });
    await deliverLast(h);
    h.clock += 20_000;
    await acceptBeacon(h.deps, { ...base, receivedAt: h.clock, behaviour: { timeOnPageSeconds: 3600 } });
    await deliverLast(h);
    const stored = await h.clickStores.clicks.getClick(answer.click_id);
    expect(stored?.signals?.observed?.timeOnPageSeconds).toBe(25);
    expect(stored?.reasons.map((r) => r.rule)).toContain('no_pointer');
  });
});

describe('honeypot address', () => {
  it("puts the address that opened it on the blocklist and marks the visit's click", async () => {
    const h = harness();
    const answer = await recordClick(h.deps, click('g-trap'));
    await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'page_view', url: 'https://shop.example/landing?gclid=g-trap&cs_hp=1', gclid: 'g-trap' },
    });
    const risky = await h.clickStores.ipReputation.riskyIps('prop_a', 0, 70);
    expect(risky).toEqual([expect.objectContaining({ ip: HOME_IP, reason: 'honeypot' })]);
    h.clock += 5000;
    expect(await deliverLast(h)).toBe('applied');
    expect((await h.clickStores.clicks.getClick(answer.click_id))?.current.label).toBe('FRAUD');
  });

  it('records nothing for an ordinary page view, and only ever the caller’s own address with the public key', async () => {
    const h = harness();
    await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'page_view', url: 'https://shop.example/landing?cs_hp=0' },
    });
    expect(await h.clickStores.ipReputation.riskyIps('prop_a', 0, 0)).toEqual([]);
    await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'page_view', url: 'https://shop.example/?cs_hp=1', ip: '203.0.113.50' },
    });
    const risky = await h.clickStores.ipReputation.riskyIps('prop_a', 0, 0);
    expect(risky.map((r) => r.ip)).toEqual([HOME_IP]);
  });
});
