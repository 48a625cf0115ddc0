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
    expect((await h.decisions.clicks.getClick(answer.click_id))?.clickId).toBe(answer.click_id);
    await h.count();
    expect(h.counts).toEqual([]);
  });

  it('writes no statistics on the request path; the click counter counts each click once, never a FRAUD one', async () => {
    const h = harness();
    const apply = jest.spyOn(h.sources, 'apply');
    await recordClick(h.deps, click());
    await recordClick(h.deps, click({ sourceIp: AWS_IP, userAgent: HEADLESS }));
    expect(apply).not.toHaveBeenCalled();
    await h.count();
    await h.count();
    expect(apply).toHaveBeenCalledTimes(1);
    expect(apply.mock.calls[0]?.[0]).toEqual([
      {
        propertyId: 'prop_a',
        sources: ['campaign:9', 'placement:news.example', 'campaign+placement:9|news.example'],
        clicks: 1,
        conversions: 0,
      },
    ]);
    expect((await h.sources.quality('prop_a')).property).toEqual({ clicks: 1, conversions: 0 });
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
    expect((await h.sources.quality('prop_a')).property).toEqual({ clicks: 2, conversions: 1 });
  });
});
