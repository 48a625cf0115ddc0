import fc from 'fast-check';
import { type ClickFacts, clickFacts, velocityCountersFor } from '../../../shared/scoring';
import { InMemoryVelocityStore } from '../../../shared/store/velocity/memory';
import { issueClickToken, verifyClickToken } from '../../../shared/tokens';
import { fakeIntel } from './fixtures';

const facts = (over: Partial<Parameters<typeof clickFacts>[0]> = {}): ClickFacts =>
  clickFacts({ propertyId: 'prop_p', ip: '203.0.113.9', visitorId: 'vis_v', gclid: 'g', ...over }, fakeIntel());
const BASE = Date.UTC(2026, 0, 1);

describe('velocityCountersFor', () => {
  it('puts the window bucket in every windowed key and a TTL at or after the bucket end', () => {
    const now = BASE + 123_456_789;
    for (const spec of velocityCountersFor(facts({ pageUrl: '/?campaignid=9' }), now)) {
      expect(spec.key.startsWith('VEL#prop_p#')).toBe(true);
      expect(spec.expiresAt * 1000).toBeGreaterThan(now);
      // Unbucketed: gclid and token uses, and an actor's lifetime clicks (a TTL ACTOR_TTL_SECONDS past the click).
      if (spec.counter !== 'gclid' && spec.counter !== 'token_uses' && spec.conversions === undefined)
        expect(spec.key).toMatch(/#\d+(:\d+)+$/);
    }
  });

  it('counts distinct IPs per visitor as a set, not clicks', async () => {
    let now = BASE;
    const store = new InMemoryVelocityStore(() => now);
    let last = {};
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.1', '198.51.100.3']) {
      now += 1000;
      last = await store.increment(velocityCountersFor(facts({ ip }), now));
    }
    expect(last).toMatchObject({ visitor_ips_1d: 3, visitor_1h: 4, ip_visitors_1h: 1 });
  });

  it('uses /24 and /64 subnet keys', () => {
    expect(facts({ ip: '203.0.113.9' }).subnet).toBe('203.0.113.0/24');
    expect(facts({ ip: '2001:db8:a:b:1:2:3:4' }).subnet).toBe('2001:db8:a:b::/64');
    expect(facts({ ip: '::ffff:203.0.113.9' }).subnet).toBe('203.0.113.0/24');
    expect(facts({ ip: 'not-an-ip' }).ipVersion).toBe(0);
  });

  it('sees any burst within the span in one counter, whatever the alignment (1 min, 1 h, 1 day)', async () => {
    const spans = [
      ['ip_1m', 60],
      ['ip_1h', 3600],
      ['ip_1d', 86_400],
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10 * 86_400_000 }),
        fc.constantFrom(...spans),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        async (start, [counter, span], fractions) => {
          const times = fractions.map((f) => BASE + start + Math.floor(f * span * 1000)).sort((a, b) => a - b);
          let now = BASE;
          const store = new InMemoryVelocityStore(() => now);
          let seen = 0;
          for (const t of times) {
            now = t;
            const values = await store.increment(velocityCountersFor(facts(), t));
            seen = values[counter] ?? 0;
          }
          return seen >= times.length && seen <= times.length;
        },
      ),
    );
  });

  it('never counts an expired window into a new one', async () => {
    let now = BASE;
    const store = new InMemoryVelocityStore(() => now, 1);
    // A property keeping clicks 30 days: its gclids are duplicates for 30 days from their first click.
    await store.increment(velocityCountersFor(facts(), now, 30));
    now += 3 * 86_400_000;
    const later = await store.increment(velocityCountersFor(facts(), now, 30));
    expect(later.ip_1d).toBe(1);
    expect(later.gclid).toBe(2);
    // 31 days after the first use (28 after the last): the use on day 3 did not extend it.
    now += 28 * 86_400_000;
    expect((await store.increment(velocityCountersFor(facts(), now, 30))).gclid).toBe(1);
  });

  it('holds the gclids of the retention (here 90 days), not every gclid ever seen, and still counts a live one', async () => {
    let now = BASE;
    const store = new InMemoryVelocityStore(() => now);
    const perDay = 100;
    // A year of clicks, each with a new gclid (and new windows): one per click without eviction.
    for (let day = 0; day < 365; day++) {
      for (let i = 0; i < perDay; i++) {
        now = BASE + day * 86_400_000 + i * 800_000;
        await store.increment(
          velocityCountersFor(facts({ gclid: `g${day}_${i}`, ip: `198.51.${day % 200}.${i % 250}` }), now, 90),
        );
      }
    }
    // Live: the last 90 days' gclids (the table holds at most 4 slots per live one) and two days of windows.
    const live = 90 * perDay;
    expect(store.size).toBeLessThan(4 * live + 2 * perDay * 12);
    // A gclid from 80 days ago is still counted; one from 100 days ago has expired and counts as new.
    expect((await store.increment(velocityCountersFor(facts({ gclid: 'g285_7' }), now, 90))).gclid).toBe(2);
    expect((await store.increment(velocityCountersFor(facts({ gclid: 'g264_7' }), now, 90))).gclid).toBe(1);
  });

  it('counts click-token uses for replay and skips invalid tokens', async () => {
    const key = Buffer.alloc(32, 7);
    const { token } = issueClickToken(key, { propertyId: 'prop_p', provider: 'acme', ttlSeconds: 3600, nowMs: BASE });
    const ok = verifyClickToken(key, token, BASE + 1000, 'prop_p');
    let now = BASE;
    const store = new InMemoryVelocityStore(() => now);
    await store.increment(velocityCountersFor(facts({ token: ok }), now));
    now += 5000;
    const second = await store.increment(velocityCountersFor(facts({ token: ok, ip: '198.51.100.77' }), now));
    expect(second.token_uses).toBe(2);
    const bad = verifyClickToken(key, `${token}x`, BASE, 'prop_p');
    expect(velocityCountersFor(facts({ token: bad }), now).some((s) => s.counter === 'token_uses')).toBe(false);
  });
});
