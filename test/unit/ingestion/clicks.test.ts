import { ApiError } from '../../../shared/http/errors';
import {
  acceptConversion,
  applyBeacon,
  applyConversion,
  BeaconMessage,
  ConversionMessage,
} from '../../../shared/ingestion';
import { acceptBeacon } from '../../../shared/ingestion/beacons';
import { recordClick } from '../../../shared/ingestion/clicks';
import { CLICK_WRITE_GRACE_MS, countClicks } from '../../../shared/ingestion/counting';
import { recordEvent } from '../../../shared/ingestion/events';
import type { PropertyView } from '../../../shared/ingestion/ports';
import { botVerdict, checkIp, decideVisitor, issueToken } from '../../../shared/ingestion/verdicts';
import type { BehaviourInput, ClickSignals } from '../../../shared/scoring/scoreClick';
import { MemoryIngestionStore } from '../../../shared/store/ingestion/memory';
import { gclidClickId } from '../../../shared/store/keys';
import { AWS_IP, CHROME, HEADLESS, HOME_IP, harness, TOR_IP } from './fixtures';

const browserClick = (over: Partial<Parameters<typeof recordClick>[1]> = {}) => ({
  kind: 'public' as const,
  propertyId: 'prop_a',
  sourceIp: HOME_IP,
  userAgent: CHROME,
  ...over,
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

/**
 * A beacon applied to each click right after its round (stored, counted) and before its correction: as a fraudster
 * who knows a gclid click's id before its answer would race one in. Returns the property the beacon scored with.
 */
async function beaconBeforeCorrection(h: ReturnType<typeof harness>, behaviour: BehaviourInput) {
  const countClick = h.store.countClick.bind(h.store);
  const property = (await h.deps.properties.get('prop_a')) as PropertyView;
  h.store.countClick = async (round) => {
    const result = await countClick(round);
    await new Promise((resolve) => setImmediate(resolve));
    await h.clickStores.ledger.rescoreClick(round.clickId, (click) => {
      const { reasons, signals, ...next } = h.deps.scoring.rescoreClick(property, click.signals as ClickSignals, {
        behaviour,
      });
      return { next, reasons, patch: { signals } };
    });
    return result;
  };
  return property;
}

describe('recordClick', () => {
  it('scores a home click clean, stores it with ValueTrack and counts it once', async () => {
    const h = harness();
    const answer = await recordClick(
      h.deps,
      browserClick({
        gclid: 'g1',
        pageUrl: 'https://shop.example/landing?gclid=g1&campaignid=123&network=g&utm_source=google',
      }),
    );
    expect(answer).toMatchObject({ status: 'clean', action: 'allow' });
    expect(answer.click_id).toMatch(/^clk_/);
    expect(answer.visitor_id).toMatch(/^vis_/);
    const stored = await h.clickStores.clicks.getClick(answer.click_id);
    expect(stored).toMatchObject({
      propertyId: 'prop_a',
      ip: HOME_IP,
      gclid: 'g1',
      valueTrack: { campaignid: '123', network: 'g', utm_source: 'google' },
    });
    await h.count();
    const day = await h.clickStores.rollups.readDays('prop_a', ['2026-06-01']);
    expect(day.get('2026-06-01')?.clicks).toBe(1);
    expect(await h.clickStores.clicks.findClickByGclid('prop_a', 'g1', h.clock)).toBe(answer.click_id);
    expect(await h.store.getVisitor('prop_a', answer.visitor_id, h.clock)).toMatchObject({
      clicks: 1,
      lastIp: HOME_IP,
    });
  });

  it('with the public key scores the source address and only records a differing body ip', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, browserClick({ ip: TOR_IP }));
    const stored = await h.clickStores.clicks.getClick(answer.click_id);
    expect(stored).toMatchObject({ ip: HOME_IP, claimedIp: TOR_IP });
    expect(answer.reasons.map((r) => r.rule)).not.toContain('tor_exit');
  });

  it('with the secret key honours the body ip, and refuses one that is not an address', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, browserClick({ kind: 'secret', sourceIp: '10.0.0.1', ip: AWS_IP }));
    expect(answer.status).not.toBe('clean');
    expect(answer.reasons.map((r) => r.rule)).toContain('datacenter_ip');
    expect((await h.clickStores.clicks.getClick(answer.click_id))?.claimedIp).toBeUndefined();
    const error = await rejection(recordClick(h.deps, browserClick({ kind: 'secret', ip: '999.1.1.1' })));
    expect(error.statusCode).toBe(400);
    expect(error.details).toMatchObject({ fields: { ip: expect.any(String) } });
  });

  it('answers fraud for a headless browser in a cloud range, suspicious for a repeated gclid', async () => {
    const h = harness();
    const bot = await recordClick(h.deps, browserClick({ sourceIp: AWS_IP, userAgent: HEADLESS }));
    expect(bot).toMatchObject({ status: 'fraud', action: 'block' });
    await recordClick(h.deps, browserClick({ gclid: 'same' }));
    const again = await recordClick(h.deps, browserClick({ gclid: 'same', sourceIp: '81.2.69.161' }));
    expect(again.reasons.map((r) => r.rule)).toContain('duplicate_gclid');
    expect(again.score).toBeGreaterThanOrEqual(40);
  });

  it('applies the property config: monitor-only flags instead of blocking, allowlisted addresses are clean', async () => {
    const h = harness();
    h.properties.set('prop_a', {
      ...h.properties.get('prop_a')!,
      config: { monitorOnly: true, allowlist: ['81.2.69.0/24'] },
    });
    const bot = await recordClick(h.deps, browserClick({ sourceIp: AWS_IP, userAgent: HEADLESS }));
    expect(bot).toMatchObject({ status: 'fraud', action: 'flag' });
    const allowed = await recordClick(h.deps, browserClick({ userAgent: HEADLESS }));
    expect(allowed).toMatchObject({ status: 'clean', score: 0 });
  });

  it('fails (never answers) when a write of the round fails', async () => {
    const h = harness();
    h.store.countClick = async () => {
      throw new Error('throttled');
    };
    await expect(recordClick(h.deps, browserClick())).rejects.toThrow('throttled');
    const clickStores = h.clickStores;
    clickStores.ledger.recordClick = async () => {
      throw new Error('click write throttled');
    };
    h.store.countClick = MemoryIngestionStore.prototype.countClick.bind(h.store);
    await expect(recordClick(h.deps, browserClick())).rejects.toThrow('click write throttled');
  });
});

describe('recordClick in one round: judged as a first click, stored beside its counts, corrected when they differ', () => {
  const rules = (click: { reasons: readonly { rule: string }[] } | undefined) => click?.reasons.map((r) => r.rule);

  it('leaves an ordinary click as stored, and corrects a repeat address’s click before answering', async () => {
    const h = harness();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await recordClick(h.deps, browserClick({ gclid: `g-rapid-${i}` })));
    const [first, , third] = answers;
    // The first click of its address, /24 and visitor: stored once, as judged before its counts came back.
    expect(await h.clickStores.clicks.getClick(first?.click_id ?? '')).toMatchObject({ version: 1 });
    // The third within the minute: its counts say rapid_clicks, and the stored click says what was answered.
    expect(third?.status).not.toBe('clean');
    expect(rules(third)).toContain('rapid_clicks');
    const stored = await h.clickStores.clicks.getClick(third?.click_id ?? '');
    expect(stored).toMatchObject({ version: 2, atClick: { score: third?.score }, current: { score: third?.score } });
    expect(rules(stored)).toEqual(rules(third));
    // Counted once each, at the verdict answered, whichever message the counter reads.
    await h.count();
    const counted = await h.clickStores.counts.counted(answers.map((a) => a.click_id));
    expect([...counted.values()].map((c) => c.outcome.score)).toEqual(answers.map((a) => a.score));
    expect((await h.clickStores.rollups.readDays('prop_a', ['2026-06-01'])).get('2026-06-01')?.clicks).toBe(3);
  });

  it('leaves no click behind when its counts or its message fail, so the retry is the gclid’s first use', async () => {
    const h = harness();
    const countClick = h.store.countClick.bind(h.store);
    const slot = gclidClickId('prop_a', 'g-refused');
    h.store.countClick = async () => {
      throw new Error('throttled');
    };
    await expect(recordClick(h.deps, browserClick({ gclid: 'g-refused' }))).rejects.toThrow('throttled');
    expect(await h.clickStores.clicks.getClick(slot)).toBeUndefined();
    h.store.countClick = countClick;
    h.failNextSend = true;
    await expect(recordClick(h.deps, browserClick({ gclid: 'g-refused' }))).rejects.toThrow('queue unavailable');
    expect(await h.clickStores.clicks.getClick(slot)).toBeUndefined();
    const retry = await recordClick(h.deps, browserClick({ gclid: 'g-refused' }));
    expect(retry.click_id).toBe(slot);
    expect(rules(retry)).not.toContain('duplicate_gclid');
    await h.count();
    expect((await h.clickStores.rollups.readDays('prop_a', ['2026-06-01'])).get('2026-06-01')?.clicks).toBe(1);
  });

  it('leaves no click behind when its correction fails: a stored verdict is always the one answered', async () => {
    const h = harness();
    for (let i = 0; i < 2; i++) await recordClick(h.deps, browserClick({ gclid: `g-fix-${i}` }));
    h.clickStores.clicks.updateClickOutcome = async () => {
      throw new Error('click write timed out');
    };
    await expect(recordClick(h.deps, browserClick({ gclid: 'g-fix-2' }))).rejects.toThrow('click write timed out');
    expect(await h.clickStores.clicks.getClick(gclidClickId('prop_a', 'g-fix-2'))).toBeUndefined();
  });

  it('keeps a refused click the counter counted already: stored and counted once, its retry a click of its own', async () => {
    const h = harness();
    const countClick = h.store.countClick.bind(h.store);
    // The counts time out late: the click counter has read and counted the click meanwhile.
    h.store.countClick = async (round) => {
      await countClick(round);
      await new Promise((resolve) => setImmediate(resolve));
      await h.count();
      throw new Error('timed out');
    };
    await expect(recordClick(h.deps, browserClick({ gclid: 'g-late' }))).rejects.toThrow('timed out');
    const slot = gclidClickId('prop_a', 'g-late');
    expect(await h.clickStores.clicks.getClick(slot)).toBeDefined();
    expect((await h.clickStores.counts.counted([slot])).size).toBe(1);
    h.store.countClick = countClick;
    const retry = await recordClick(h.deps, browserClick({ gclid: 'g-late' }));
    expect(rules(retry)).toContain('duplicate_gclid');
    await h.count();
    expect((await h.clickStores.rollups.readDays('prop_a', ['2026-06-01'])).get('2026-06-01')?.clicks).toBe(2);
  });

  it('cannot be undone by a beacon that lands between the stored click and its correction', async () => {
    // A fraudster knows a gclid click's id before its answer (the gclid's own id) and beacons it at once.
    const h = harness();
    for (let i = 0; i < 2; i++) await recordClick(h.deps, browserClick({ gclid: `g-race-${i}` }));
    const property = await beaconBeforeCorrection(h, { timeOnPageSeconds: 45, scrollDepth: 80, mouseEntropy: 0.9 });
    const third = await recordClick(h.deps, browserClick({ gclid: 'g-race-2' }));
    expect(rules(third)).toContain('rapid_clicks');
    const stored = await h.clickStores.clicks.getClick(third.click_id);
    // The at-click verdict is the one answered; the beacon still counts, on top of the corrected signals: the
    // current verdict is what those signals give, rapid clicks included.
    expect(stored?.atClick.score).toBe(third.score);
    expect(stored?.signals?.observed).toMatchObject({ timeOnPageSeconds: 45 });
    const {
      reasons,
      signals: _signals,
      ...current
    } = h.deps.scoring.rescoreClick(property, stored?.signals as ClickSignals, {});
    expect(stored?.current).toEqual(current);
    expect(stored?.reasons).toEqual(reasons);
    expect(rules(stored)).toContain('rapid_clicks');
    expect(stored?.version).toBe(3);
  });
});

describe('recordClick: a correction that only changes what the click teaches', () => {
  it('still lands when a beacon came first: the click teaches its /24’s repeat level', async () => {
    const h = harness();
    await recordClick(h.deps, browserClick({ sourceIp: '81.2.69.10', gclid: 'g-teach-0' }));
    // Reads in this test's realm (the in-memory store's copies come from another), so comparisons see equal values.
    const getClick = h.clickStores.clicks.getClick.bind(h.clickStores.clicks);
    h.clickStores.clicks.getClick = async (id) => JSON.parse(JSON.stringify((await getClick(id)) ?? null)) ?? undefined;
    await beaconBeforeCorrection(h, { timeOnPageSeconds: 30, scrollDepth: 70, mouseEntropy: 0.8 });
    // Another address of the same /24: the verdict of a first click, but a repeat /24 to learn from.
    const second = await recordClick(h.deps, browserClick({ sourceIp: '81.2.69.11', gclid: 'g-teach-1' }));
    const stored = await h.clickStores.clicks.getClick(second.click_id);
    expect(stored?.signals?.learnsFrom).toContain('subnet-repeat:2-3/hour');
    expect(stored?.signals?.observed).toMatchObject({ timeOnPageSeconds: 30 });
    expect(stored?.version).toBe(3);
  });
});

describe('recordClick: a gclid counted by the click itself', () => {
  it('stores the first click under the gclid’s own id, with no write of the gclid’s own', async () => {
    const h = harness();
    const answer = await recordClick(h.deps, browserClick({ gclid: 'g-own', visitorId: 'vis_own' }));
    expect(answer.click_id).toBe(gclidClickId('prop_a', 'g-own'));
    expect(answer.reasons.map((r) => r.rule)).not.toContain('duplicate_gclid');
    expect(await h.clickStores.clicks.findClickByGclid('prop_a', 'g-own', h.clock)).toBe(answer.click_id);
    // The same gclid on another property is that property's own first use.
    const other = await recordClick(h.deps, browserClick({ propertyId: 'prop_b', gclid: 'g-own' }));
    expect(other.click_id).not.toBe(answer.click_id);
    expect(other.reasons.map((r) => r.rule)).not.toContain('duplicate_gclid');
  });

  it('stores a reused gclid’s click under its own id, counts both clicks once and keeps the first findable', async () => {
    const h = harness();
    const first = await recordClick(h.deps, browserClick({ gclid: 'g-dup', visitorId: 'vis_a' }));
    h.clock += 1_000;
    const again = await recordClick(h.deps, browserClick({ gclid: 'g-dup', visitorId: 'vis_b', sourceIp: AWS_IP }));
    h.clock += 1_000;
    const third = await recordClick(h.deps, browserClick({ gclid: 'g-dup', visitorId: 'vis_b', sourceIp: AWS_IP }));
    expect(new Set([first.click_id, again.click_id, third.click_id]).size).toBe(3);
    for (const reuse of [again, third]) {
      expect(reuse.reasons.map((r) => r.rule)).toContain('duplicate_gclid');
      expect(await h.clickStores.clicks.getClick(reuse.click_id)).toMatchObject({
        clickId: reuse.click_id,
        gclid: 'g-dup',
        atClick: { score: reuse.score },
      });
    }
    expect((await h.clickStores.clicks.getClick(first.click_id))?.atClick.score).toBe(first.score);
    expect(await h.clickStores.clicks.findClickByGclid('prop_a', 'g-dup', h.clock)).toBe(first.click_id);
    // The visitor's last click is its own, not the gclid's first.
    expect((await h.store.getVisitor('prop_a', 'vis_b', h.clock))?.lastClickId).toBe(third.click_id);
    await h.count();
    const day = await h.clickStores.rollups.readDays('prop_a', ['2026-06-01']);
    expect(day.get('2026-06-01')?.clicks).toBe(3);
  });

  it('sees a gclid first used by a click with an Idempotency-Key, whose id is its own', async () => {
    const h = harness();
    const keyed = await recordClick(h.deps, browserClick({ kind: 'secret', gclid: 'g-key', idempotencyKey: 'k1' }));
    expect(keyed.click_id).not.toBe(gclidClickId('prop_a', 'g-key'));
    const later = await recordClick(h.deps, browserClick({ gclid: 'g-key' }));
    expect(later.reasons.map((r) => r.rule)).toContain('duplicate_gclid');
    expect(await h.clickStores.clicks.findClickByGclid('prop_a', 'g-key', h.clock)).toBe(keyed.click_id);
    // The slot holds a marker, never a click.
    expect(await h.clickStores.clicks.getClick(gclidClickId('prop_a', 'g-key'))).toBeUndefined();
    const keyedAgain = await recordClick(
      h.deps,
      browserClick({ kind: 'secret', gclid: 'g-key', idempotencyKey: 'k2' }),
    );
    expect(keyedAgain.reasons.map((r) => r.rule)).toContain('duplicate_gclid');
  });

  it('lets exactly one of two racing clicks with a new gclid be its first use', async () => {
    const h = harness();
    const [a, b] = await Promise.all([
      recordClick(h.deps, browserClick({ gclid: 'g-race' })),
      recordClick(h.deps, browserClick({ gclid: 'g-race' })),
    ]);
    const flagged = [a, b].filter((answer) => answer.reasons.some((r) => r.rule === 'duplicate_gclid'));
    expect(flagged).toHaveLength(1);
    expect(a.click_id).not.toBe(b.click_id);
  });
});

describe('recordClick with an Idempotency-Key', () => {
  const keyed = (key: string, over: Partial<Parameters<typeof recordClick>[1]> = {}) =>
    browserClick({ gclid: 'g-retry', idempotencyKey: key, ...over });

  it('stores a retried click once and answers it again without scoring or counting it twice', async () => {
    const h = harness();
    const scored = jest.spyOn(h.deps.scoring, 'prepareClick');
    const counted = jest.spyOn(h.store, 'countClick');
    const first = await recordClick(h.deps, keyed('order-1'));
    h.clock += 5_000;
    const retry = await recordClick(h.deps, keyed('order-1', { sourceIp: '81.2.69.161' }));

    expect(retry).toEqual(first);
    expect(retry.reasons.map((r) => r.rule)).not.toContain('duplicate_gclid');
    expect(scored).toHaveBeenCalledTimes(1);
    expect(counted).toHaveBeenCalledTimes(1);
    await h.count();
    const day = await h.clickStores.rollups.readDays('prop_a', ['2026-06-01']);
    expect(day.get('2026-06-01')?.clicks).toBe(1);
    expect(await h.store.getVisitor('prop_a', first.visitor_id, h.clock)).toMatchObject({ clicks: 1 });
  });

  it('lets the loser of two racing attempts answer the winner’s click and write nothing else', async () => {
    const h = harness();
    const touched = jest.spyOn(h.store, 'touchVisitor');
    const clickWrites = jest.spyOn(h.clickStores.ledger, 'recordClick');
    const [a, b] = await Promise.all([
      recordClick(h.deps, keyed('order-2', { visitorId: 'vis_race' })),
      recordClick(h.deps, keyed('order-2', { visitorId: 'vis_race' })),
    ]);

    expect(b).toEqual(a);
    expect(clickWrites).toHaveBeenCalledTimes(2);
    expect(touched).toHaveBeenCalledTimes(1);
    await h.count();
    const day = await h.clickStores.rollups.readDays('prop_a', ['2026-06-01']);
    expect(day.get('2026-06-01')?.clicks).toBe(1);
  });

  it('records clicks under different keys, and the same key of another property, as distinct clicks', async () => {
    const h = harness();
    const first = await recordClick(h.deps, keyed('order-3'));
    const other = await recordClick(h.deps, keyed('order-4', { sourceIp: '81.2.69.161' }));
    const elsewhere = await recordClick(h.deps, keyed('order-3', { propertyId: 'prop_b' }));

    expect(new Set([first.click_id, other.click_id, elsewhere.click_id]).size).toBe(3);
    expect(other.reasons.map((r) => r.rule)).toContain('duplicate_gclid');
    expect(elsewhere.reasons.map((r) => r.rule)).not.toContain('duplicate_gclid');
    expect(await h.clickStores.clicks.getClick(elsewhere.click_id)).toMatchObject({ propertyId: 'prop_b' });
    await h.count();
    const days = await Promise.all(
      ['prop_a', 'prop_b'].map((id) => h.clickStores.rollups.readDays(id, ['2026-06-01'])),
    );
    expect(days.map((day) => day.get('2026-06-01')?.clicks)).toEqual([2, 1]);
  });
});

describe('recordEvent', () => {
  const pageView = (h: ReturnType<typeof harness>, body: Record<string, unknown> = {}, key?: string) =>
    recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'page_view', url: 'https://shop.example/', ...body },
      ...(key !== undefined ? { idempotencyKey: key } : {}),
    });

  it('assigns a visitor id and stores a retried event once', async () => {
    const h = harness();
    const first = await pageView(h);
    expect(first).toMatchObject({ success: true });
    expect(first.eventId).toMatch(/^evt_/);
    expect(first.visitorId).toMatch(/^vis_/);
    const retry = await pageView(h);
    expect(retry).toEqual(first);
    await h.count();
    const day = await h.clickStores.rollups.readDays('prop_a', ['2026-06-01']);
    expect(day.get('2026-06-01')?.events).toBe(1);
    expect(await h.store.getVisitor('prop_a', first.visitorId, h.clock)).toMatchObject({ pageViews: 1 });
  });

  it('treats the same Idempotency-Key as one event however late the retry', async () => {
    const h = harness();
    const first = await pageView(h, { visitorId: 'vis_one' }, 'order-42');
    h.clock += 3_600_000;
    const retry = await pageView(h, { visitorId: 'vis_one' }, 'order-42');
    expect(retry.eventId).toBe(first.eventId);
    const other = await pageView(h, { visitorId: 'vis_one' }, 'order-43');
    expect(other.eventId).not.toBe(first.eventId);
  });

  it('releases a failed attempt so the retry records the event in full', async () => {
    const h = harness();
    const touch = h.store.touchVisitor.bind(h.store);
    h.store.touchVisitor = async () => {
      throw new Error('down');
    };
    await expect(pageView(h, { visitorId: 'vis_r' })).rejects.toThrow('down');
    h.store.touchVisitor = touch;
    const retry = await pageView(h, { visitorId: 'vis_r' });
    expect(retry.visitorId).toBe('vis_r');
    expect(await h.store.getVisitor('prop_a', 'vis_r', h.clock)).toMatchObject({ pageViews: 1 });
  });

  it('scores click events like POST /v1/click and queues conversion events', async () => {
    const h = harness();
    const click = await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: AWS_IP,
      receivedAt: h.clock,
      body: { type: 'click', gclid: 'gev', data: { userAgent: HEADLESS } },
    });
    const clickId = await h.clickStores.clicks.findClickByGclid('prop_a', 'gev', h.clock);
    expect((await h.clickStores.clicks.getClick(clickId!))?.current.label).toBe('FRAUD');
    await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: AWS_IP,
      receivedAt: h.clock,
      body: { type: 'conversion', visitorId: click.visitorId, gclid: 'gev', data: { value: 10, currency: 'USD' } },
    });
    const [sent] = h.sent;
    expect(sent?.queue).toBe('conversions');
    const message = ConversionMessage.parse(sent?.message);
    // A public-key conversion is counted as an event and teaches nothing: no conversion on the click.
    expect(message.trusted).toBe(false);
    expect(await applyConversion(h.deps, message)).toBe('untrusted');
    expect((await h.clickStores.clicks.getClick(clickId!))?.convertedAt).toBeUndefined();
    expect(h.store.conversions.get(clickId!)).toBeUndefined();

    await recordEvent(h.deps, {
      kind: 'secret',
      propertyId: 'prop_a',
      sourceIp: AWS_IP,
      receivedAt: h.clock,
      body: { type: 'conversion', visitorId: click.visitorId, gclid: 'gev', data: { value: 10, currency: 'USD' } },
    });
    const trusted = ConversionMessage.parse(h.sent.at(-1)?.message);
    expect(trusted.trusted).toBe(true);
    expect(await applyConversion(h.deps, trusted)).toBe('applied');
    expect((await h.clickStores.clicks.getClick(clickId!))?.convertedAt).toBe(h.clock);
  });
});

describe('beacons', () => {
  it('re-scores the click and its visitor once, however often the beacon is delivered', async () => {
    const h = harness();
    const click = await recordClick(h.deps, browserClick({ visitorId: 'vis_b' }));
    expect(click.status).toBe('clean');
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock + 5000,
      clickId: click.click_id,
      behaviour: { honeypot: true, timeOnPageSeconds: 0.4 },
    });
    const message = BeaconMessage.parse(h.sent[0]?.message);
    expect(await applyBeacon(h.deps, message)).toBe('applied');
    expect(await applyBeacon(h.deps, message)).toBe('duplicate');
    const stored = await h.clickStores.clicks.getClick(click.click_id);
    expect(stored?.current.label).toBe('FRAUD');
    expect(stored?.atClick.label).toBe('CLEAN');
    await h.count();
    const day = (await h.clickStores.rollups.readDays('prop_a', ['2026-06-01'])).get('2026-06-01');
    expect(day?.labels).toMatchObject({ CLEAN: 0, FRAUD: 1 });
    expect(day?.clicks).toBe(1);
    const decision = await decideVisitor(h.deps, { propertyId: 'prop_a', visitorId: 'vis_b' });
    expect(decision).toMatchObject({ label: 'FRAUD', action: 'BLOCK' });
    expect(decision.reasons.map((r) => r.rule)).toContain('honeypot');
  });

  it("drops a beacon for an unknown click or another property's click", async () => {
    const h = harness();
    const other = await recordClick(h.deps, browserClick({ propertyId: 'prop_b' }));
    const base = { kind: 'beacon' as const, propertyId: 'prop_a', receivedAt: h.clock, behaviour: { honeypot: true } };
    expect(await applyBeacon(h.deps, { ...base, beaconId: 'b1', clickId: 'clk_missing' })).toBe('dropped');
    expect(await applyBeacon(h.deps, { ...base, beaconId: 'b2', clickId: other.click_id })).toBe('dropped');
    expect((await h.clickStores.clicks.getClick(other.click_id))?.current.label).toBe('CLEAN');
  });
});

describe('conversions', () => {
  it('finds the click by gclid, refuses a second conversion or order id, and 404s unknown clicks', async () => {
    const h = harness();
    const click = await recordClick(h.deps, browserClick({ gclid: 'gc1', pageUrl: 'https://s.example/?campaignid=9' }));
    const second = await recordClick(h.deps, browserClick({ gclid: 'gc2', sourceIp: '81.2.69.170' }));
    const ok = await acceptConversion(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      gclid: 'gc1',
      orderId: 'o1',
    });
    expect(ok).toEqual({ success: true, click_id: click.click_id, message: 'conversion recorded' });
    expect(h.store.conversions.get(click.click_id)?.currency).toBe('VND');
    const again = await rejection(
      acceptConversion(h.deps, { propertyId: 'prop_a', receivedAt: h.clock, gclid: 'gc1' }),
    );
    expect(again.statusCode).toBe(409);
    const sameOrder = await rejection(
      acceptConversion(h.deps, { propertyId: 'prop_a', receivedAt: h.clock, clickId: second.click_id, orderId: 'o1' }),
    );
    expect(sameOrder.statusCode).toBe(409);
    expect(sameOrder.message).toContain('order_id');
    const unknown = await rejection(
      acceptConversion(h.deps, { propertyId: 'prop_a', receivedAt: h.clock, gclid: 'nope' }),
    );
    expect(unknown.statusCode).toBe(404);
    const foreign = await rejection(
      acceptConversion(h.deps, { propertyId: 'prop_b', receivedAt: h.clock, clickId: click.click_id }),
    );
    expect(foreign.statusCode).toBe(404);

    const message = ConversionMessage.parse(h.sent.at(-1)?.message);
    expect(await applyConversion(h.deps, message)).toBe('applied');
    expect(await applyConversion(h.deps, message)).toBe('duplicate');
    expect(await h.store.getVisitor('prop_a', click.visitor_id, h.clock)).toMatchObject({ conversions: 1 });
  });

  it('forgets the conversion when it cannot be queued, so the retry is not a 409', async () => {
    const h = harness();
    await recordClick(h.deps, browserClick({ gclid: 'gq' }));
    h.failNextSend = true;
    await expect(
      acceptConversion(h.deps, { propertyId: 'prop_a', receivedAt: h.clock, gclid: 'gq', orderId: 'x' }),
    ).rejects.toThrow('queue unavailable');
    const retry = await acceptConversion(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock,
      gclid: 'gq',
      orderId: 'x',
    });
    expect(retry.success).toBe(true);
  });
});

describe('click tokens and bot verdicts', () => {
  it('answers the verdict of the visit that carried the token, and 404 before any visit or for a forged token', async () => {
    const h = harness();
    const issued = await issueToken(h.deps, {
      propertyId: 'prop_a',
      provider: 'acme',
      campaign: 'spring',
      ttlSeconds: 3600,
    });
    expect(issued.click_token).toMatch(/^ct_/);
    expect(Date.parse(issued.expires_at)).toBe(h.clock + 3_600_000);
    const unused = await rejection(botVerdict(h.deps, { propertyId: 'prop_a', clickToken: issued.click_token }));
    expect(unused.statusCode).toBe(404);
    const forged = await rejection(botVerdict(h.deps, { propertyId: 'prop_a', clickToken: `${issued.click_token}x` }));
    expect(forged.statusCode).toBe(404);

    await recordClick(
      h.deps,
      browserClick({ clickToken: issued.click_token, pageUrl: 'https://s.example/?utm_campaign=spring' }),
    );
    const verdict = await botVerdict(h.deps, { propertyId: 'prop_a', clickToken: issued.click_token });
    expect(verdict).toMatchObject({
      code: 0,
      data: { is_bot: false, level: 'low', action: 'record_only', consistency: { ok: true }, degraded: true },
    });
    const otherProperty = await rejection(botVerdict(h.deps, { propertyId: 'prop_b', clickToken: issued.click_token }));
    expect(otherProperty.statusCode).toBe(404);

    await recordClick(h.deps, browserClick({ clickToken: issued.click_token, sourceIp: '81.2.69.180' }));
    const replayed = await botVerdict(h.deps, { propertyId: 'prop_a', clickToken: issued.click_token });
    expect(replayed.data.consistency).toMatchObject({ ok: false, used_once: false, token_uses: 2 });
  });

  it('is not consistent when the landing campaign differs from the token campaign', async () => {
    const h = harness();
    const issued = await issueToken(h.deps, {
      propertyId: 'prop_a',
      provider: 'acme',
      campaign: 'spring',
      ttlSeconds: 3600,
    });
    await recordClick(
      h.deps,
      browserClick({ clickToken: issued.click_token, pageUrl: 'https://s.example/?utm_campaign=winter' }),
    );
    const verdict = await botVerdict(h.deps, { propertyId: 'prop_a', clickToken: issued.click_token });
    expect(verdict.data.consistency).toMatchObject({ ok: false, campaign_match: false });
  });
});

describe('decisions and ip-check', () => {
  it("404s an unknown visitor and another property's visitor", async () => {
    const h = harness();
    const click = await recordClick(h.deps, browserClick());
    expect((await decideVisitor(h.deps, { propertyId: 'prop_a', visitorId: click.visitor_id })).label).toBe('CLEAN');
    for (const request of [
      { propertyId: 'prop_a', visitorId: 'vis_unknown' },
      { propertyId: 'prop_b', visitorId: click.visitor_id },
    ]) {
      expect((await rejection(decideVisitor(h.deps, request))).statusCode).toBe(404);
    }
  });

  it('flags addresses from intelligence and the user agent', async () => {
    const h = harness();
    expect(await checkIp(h.deps, { propertyId: 'prop_a', ip: HOME_IP })).toEqual({
      trusted_ai_score: 'Safe',
      proxy: false,
      tor: false,
      vpn: false,
      crawler: false,
      bot: false,
    });
    expect(await checkIp(h.deps, { propertyId: 'prop_a', ip: TOR_IP })).toMatchObject({
      tor: true,
      trusted_ai_score: 'Fake',
    });
    expect(await checkIp(h.deps, { propertyId: 'prop_a', ip: AWS_IP })).toMatchObject({
      proxy: true,
      trusted_ai_score: 'Suspicious',
    });
    expect(await checkIp(h.deps, { propertyId: 'prop_a', ip: AWS_IP, userAgent: HEADLESS })).toMatchObject({
      bot: true,
      trusted_ai_score: 'Fake',
    });
    for (const ip of ['1.2.3', '300.1.1.1', 'localhost', '::ffff:zz', '127.1']) {
      expect((await rejection(checkIp(h.deps, { propertyId: 'prop_a', ip }))).statusCode).toBe(400);
    }
  });
});

describe("the visitor's worst click", () => {
  const label = async (h: ReturnType<typeof harness>, visitorId: string) =>
    (await decideVisitor(h.deps, { propertyId: 'prop_a', visitorId })).label;

  it('is raised by the click counter, off the request path, for a suspicious click followed by a clean one', async () => {
    const h = harness();
    const suspicious = await recordClick(h.deps, browserClick({ sourceIp: AWS_IP, visitorId: 'vis_w1' }));
    expect(suspicious.status).toBe('suspicious');
    // The request path wrote no worst click: a clean click that follows is the visitor's last click.
    expect((await h.store.getVisitor('prop_a', 'vis_w1'))?.worstClickId).toBeUndefined();
    h.clock += 1_000;
    expect((await recordClick(h.deps, browserClick({ visitorId: 'vis_w1' }))).status).toBe('clean');
    await h.count();
    expect(await h.store.getVisitor('prop_a', 'vis_w1')).toMatchObject({
      worstClickId: suspicious.click_id,
      worstScore: suspicious.score,
    });
    expect(await label(h, 'vis_w1')).toBe('SUSPICIOUS');
    // A redelivery of the same messages raises nothing twice and lowers nothing.
    await countClicks(h.deps, [{ kind: 'count', propertyId: 'prop_a', clickId: suspicious.click_id, at: h.clock }]);
    expect((await h.store.getVisitor('prop_a', 'vis_w1'))?.worstScore).toBe(suspicious.score);
  });

  it('is raised on the request path for a FRAUD click: a clean click right after cannot hide it', async () => {
    const h = harness();
    const fraud = await recordClick(
      h.deps,
      browserClick({ sourceIp: AWS_IP, userAgent: HEADLESS, visitorId: 'vis_w2' }),
    );
    expect(fraud.status).toBe('fraud');
    h.clock += 1_000;
    const clean = await recordClick(h.deps, browserClick({ visitorId: 'vis_w2' }));
    expect(clean.status).toBe('clean');
    // Nothing counted yet: the two clicks' messages wait for the counter (the second, a repeat visitor, twice:
    // its stored verdict was corrected once its counts came back).
    expect(new Set(h.counts.map((m) => m.clickId))).toEqual(new Set([fraud.click_id, clean.click_id]));
    expect(await label(h, 'vis_w2')).toBe('FRAUD');
  });
});

describe('click counter', () => {
  const day = async (h: ReturnType<typeof harness>) =>
    (await h.clickStores.rollups.readDays('prop_a', ['2026-06-01'])).get('2026-06-01')!;

  it('counts every stored click once at its current verdict, whatever the redelivery or order', async () => {
    const h = harness();
    const a = await recordClick(h.deps, browserClick({ visitorId: 'vis_c1' }));
    await recordClick(h.deps, browserClick({ sourceIp: '81.2.69.170' }));
    const firstBatch = [...h.counts];
    await h.count();
    expect((await day(h)).clicks).toBe(2);
    // The same batch delivered again counts nothing.
    await countClicks(h.deps, firstBatch);
    expect((await day(h)).clicks).toBe(2);

    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock + 1,
      clickId: a.click_id,
      behaviour: { honeypot: true },
    });
    await applyBeacon(h.deps, BeaconMessage.parse(h.sent.at(-1)?.message));
    // The re-score's message, plus a stale copy of the click's first message arriving after it.
    h.counts.push(...firstBatch);
    await h.count();
    await h.count();
    expect(await day(h)).toMatchObject({ clicks: 2, labels: { CLEAN: 1, SUSPICIOUS: 0, FRAUD: 1 } });
    const [risky] = await h.clickStores.ipReputation.riskyIps('prop_a', 0, 70);
    expect(risky).toMatchObject({ ip: HOME_IP, reason: 'honeypot' });
    // The clean click's address got no record: only risky addresses (and those once risky) are written.
    expect(await h.clickStores.ipReputation.knownIps('prop_a', ['81.2.69.170'])).toEqual(new Set());
  });

  it('counts each click once by its at-click verdict and its trusted conversion once (calibration)', async () => {
    const h = harness();
    const fraud = await recordClick(h.deps, browserClick({ userAgent: HEADLESS, sourceIp: AWS_IP }));
    const clean = await recordClick(h.deps, browserClick({ gclid: 'gc-cal' }));
    await h.count();
    expect(fraud.status).toBe('fraud');
    await acceptConversion(h.deps, { propertyId: 'prop_a', receivedAt: h.clock, clickId: clean.click_id });
    const conversion = ConversionMessage.parse(h.sent.at(-1)?.message);
    expect(await applyConversion(h.deps, conversion)).toBe('applied');
    const conversionCounts = [...h.counts];
    await h.count();
    // A redelivered conversion and redelivered count messages change nothing.
    expect(await applyConversion(h.deps, conversion)).toBe('duplicate');
    h.counts.push(...conversionCounts);
    await h.count();
    const counts = await day(h);
    expect(counts.atClick['band:FRAUD']).toBe(1);
    expect(counts.atClick['band:CLEAN']).toBe(1);
    expect(counts.converted).toMatchObject({ 'band:CLEAN': 1 });
    expect(counts.converted['band:FRAUD']).toBeUndefined();
    expect(Object.values(counts.converted).every((n) => n === 1)).toBe(true);
    const deciles = Object.entries(counts.atClick).filter(([key]) => key.startsWith('decile:'));
    expect(deciles.reduce((sum, [, n]) => sum + n, 0)).toBe(2);
  });

  it('counts the clicks of a risky address into its record once each, whatever the redelivery', async () => {
    const h = harness();
    const first = await recordClick(h.deps, browserClick({ visitorId: 'vis_v1' }));
    await h.count();
    await acceptBeacon(h.deps, {
      propertyId: 'prop_a',
      receivedAt: h.clock + 1,
      clickId: first.click_id,
      behaviour: { honeypot: true },
    });
    await applyBeacon(h.deps, BeaconMessage.parse(h.sent.at(-1)?.message));
    await h.count(); // the re-score makes the address risky: its record starts, counting that click
    const delivered: (typeof h.counts)[number][] = [];
    for (const visitorId of ['vis_v2', 'vis_v3']) {
      h.clock += 60_000;
      await recordClick(h.deps, browserClick({ visitorId }));
      delivered.push(...h.counts);
      await h.count();
    }
    // Every message again, twice, in another order: nothing more is counted.
    await countClicks(h.deps, [...delivered].reverse());
    await countClicks(h.deps, delivered);
    const [risky] = await h.clickStores.ipReputation.riskyIps('prop_a', 0, 70);
    expect(risky).toMatchObject({ ip: HOME_IP, clicks: 3 });
  });

  it('with the public key, naming another address in the body never adds to that address’s click volume', async () => {
    const h = harness();
    await recordClick(h.deps, browserClick({ kind: 'secret', sourceIp: '10.0.0.1', ip: AWS_IP }));
    await h.count();
    for (const visitorId of ['vis_f1', 'vis_f2', 'vis_f3', 'vis_f4']) {
      h.clock += 1000;
      await recordClick(h.deps, browserClick({ ip: AWS_IP, visitorId }));
      await h.count();
    }
    const records = await h.clickStores.ipReputation.riskyIps('prop_a', 0, 0);
    // The claimed address keeps the one click made with the secret key; the flood counts against the caller's
    // own address (which its rapid clicks made risky), from its first risky click on.
    expect(records.find((r) => r.ip === AWS_IP)).toMatchObject({ clicks: 1 });
    expect(records.find((r) => r.ip === HOME_IP)?.clicks).toBeGreaterThan(0);
  });

  it('waits for a click not readable yet and drops one never stored once the grace has passed', async () => {
    const h = harness();
    const message = { kind: 'count' as const, propertyId: 'prop_a', clickId: 'clk_never', at: h.clock };
    expect(await countClicks(h.deps, [message])).toMatchObject({ counted: 0, waiting: [message], dropped: 0 });
    h.clock += CLICK_WRITE_GRACE_MS;
    expect(await countClicks(h.deps, [message])).toMatchObject({ counted: 0, waiting: [], dropped: 1 });
  });

  it('refuses to count another property’s click under a forged message, and two racing batches count once', async () => {
    const h = harness();
    const theirs = await recordClick(h.deps, browserClick({ propertyId: 'prop_b' }));
    const forged = { kind: 'count' as const, propertyId: 'prop_a', clickId: theirs.click_id, at: h.clock };
    await countClicks(h.deps, [forged]);
    expect((await day(h)).clicks).toBe(0);
    const batch = [...h.counts];
    h.counts.length = 0;
    const results = await Promise.allSettled([countClicks(h.deps, batch), countClicks(h.deps, batch)]);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    const counted = await h.clickStores.rollups.readDays('prop_b', ['2026-06-01']);
    expect(counted.get('2026-06-01')?.clicks).toBe(1);
  });
});

describe('retention', () => {
  it("stores the click with the property's retention as its TTL (13 months unless set shorter)", async () => {
    const h = harness();
    h.properties.set('prop_a', { ...h.properties.get('prop_a')!, config: { retentionDays: 30 } });
    const short = await recordClick(h.deps, browserClick());
    const long = await recordClick(h.deps, browserClick({ propertyId: 'prop_b' }));
    const at = Math.floor(h.clock / 1000);
    expect((await h.clickStores.clicks.getClick(short.click_id))?.expiresAt).toBe(at + 30 * 86_400);
    expect((await h.clickStores.clicks.getClick(long.click_id))?.expiresAt).toBe(at + 396 * 86_400);
  });
});
