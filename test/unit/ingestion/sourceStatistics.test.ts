import { applyConversion, ConversionMessage, recordClick } from '../../../shared/ingestion';
import { recordEvent } from '../../../shared/ingestion/events';
import { AWS_IP, CHROME, HEADLESS, HOME_IP, harness } from './fixtures';

const PAGE = 'https://shop.example/?campaignid=9&placement=news.example';
const click = (over: Partial<Parameters<typeof recordClick>[1]> = {}) => ({
  kind: 'public' as const,
  propertyId: 'prop_a',
  sourceIp: HOME_IP,
  userAgent: CHROME,
  pageUrl: PAGE,
  ...over,
});

describe('learned source statistics on the ingestion path', () => {
  it('a failed statistics write never fails a stored click, nor its count', async () => {
    const h = harness();
    jest.spyOn(h.sources, 'apply').mockRejectedValue(new Error('ItemCollectionSizeLimitExceeded'));
    const answer = await recordClick(h.deps, click());
    expect(answer.status).toBe('clean');
    expect((await h.clickStores.clicks.getClick(answer.click_id))?.clickId).toBe(answer.click_id);
    await h.count();
    expect(h.counts).toEqual([]);
  });

  it('writes no statistics on the request path; the click counter counts each click once, a FRAUD one only as invalid', async () => {
    const h = harness();
    const apply = jest.spyOn(h.sources, 'apply');
    await recordClick(h.deps, click());
    await recordClick(h.deps, click({ sourceIp: AWS_IP, userAgent: HEADLESS }));
    expect(apply).not.toHaveBeenCalled();
    await h.count();
    await h.count();
    // The counter applies a batch in one call (one write per property).
    expect(apply).toHaveBeenCalledTimes(1);
    const sources = ['campaign:9', 'placement:news.example', 'campaign+placement:9|news.example'];
    expect(apply.mock.calls.flatMap((call) => call[0]).sort((a, b) => a.clicks - b.clicks)).toEqual([
      { propertyId: 'prop_a', sources, clicks: 0, conversions: 0, fraud: 1 },
      {
        propertyId: 'prop_a',
        // Its sources (the address is under the daily cap) and its repeat levels.
        sources: [...sources, 'address-repeat:1/day', 'subnet-repeat:1/hour'],
        clicks: 1,
        conversions: 0,
      },
    ]);
    expect((await h.sources.quality('prop_a')).property).toEqual({ clicks: 1, conversions: 0, fraud: 1 });
  });

  it('public key in hand: one address teaches a source at most three clicks a day, however many it sends', async () => {
    const h = harness();
    for (let i = 0; i < 12; i++) {
      await recordClick(h.deps, click({ pageUrl: 'https://shop.example/?placement=rival.example' }));
      h.clock += 60_000;
      await h.count();
    }
    const quality = await h.sources.quality('prop_a');
    const placement = [...quality.bySlot].find(([key]) => key.startsWith('p'))?.[1];
    expect(placement?.clicks).toBe(3);
    // Every click still counts: at its repeat level (that is what the repetition is evidence of), or, once the
    // velocity rules make it FRAUD, towards the placement's invalid share.
    expect(quality.property.clicks + (quality.property.fraud ?? 0)).toBe(12);
    expect(placement?.fraud).toBeGreaterThan(0);
  });

  it('learns only from trusted conversions: a public-key conversion event moves no statistic', async () => {
    const h = harness();
    const first = await recordClick(h.deps, click({ gclid: 'g-public' }));
    await recordEvent(h.deps, {
      kind: 'public',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'conversion', visitorId: first.visitor_id, gclid: 'g-public' },
    });
    const untrusted = ConversionMessage.parse(h.sent.at(-1)?.message);
    expect(untrusted.trusted).toBe(false);
    await applyConversion(h.deps, untrusted);
    expect((await h.sources.quality('prop_a')).property.conversions).toBe(0);

    const second = await recordClick(h.deps, click({ gclid: 'g-secret', sourceIp: '81.2.69.170' }));
    await h.count();
    await recordEvent(h.deps, {
      kind: 'secret',
      propertyId: 'prop_a',
      sourceIp: HOME_IP,
      receivedAt: h.clock,
      body: { type: 'conversion', visitorId: second.visitor_id, gclid: 'g-secret' },
    });
    const trusted = ConversionMessage.parse(h.sent.at(-1)?.message);
    expect(trusted.trusted).toBe(true);
    await applyConversion(h.deps, trusted);
    expect((await h.sources.quality('prop_a')).property).toEqual({ clicks: 2, conversions: 1, fraud: 0 });
  });
});
