import { calibration } from '../../../shared/dashboard/calibration';
import { explainClick } from '../../../shared/dashboard/clickExplorer';
import { dayFigures, timeseriesDays } from '../../../shared/dashboard/timeseries';
import { MIN_RANKED_CLICKS, trafficSources } from '../../../shared/dashboard/trafficSources';
import type { Label, Outcome } from '../../../shared/model';
import { DEFAULT_CONFIG, type EffectiveConfig } from '../../../shared/properties';
import { addCounters, emptyCounts, rollupDelta, type StoredClick } from '../../../shared/store';
import { MemorySourceStatsStore } from '../../../shared/store/sourceStats';

describe('timeseries', () => {
  it('lists the range’s local days, today last', () => {
    const now = Date.UTC(2026, 10, 30, 23, 30);
    expect(timeseriesDays('7days', now, 'UTC')).toEqual([
      '2026-11-24',
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      '2026-11-28',
      '2026-11-29',
      '2026-11-30',
    ]);
    // 23:30 UTC is already the next day in Tokyo.
    expect(timeseriesDays('30days', now, 'Asia/Tokyo').at(-1)).toBe('2026-12-01');
    expect(timeseriesDays('90days', now, 'UTC')).toHaveLength(90);
  });

  it('counts FRAUD as invalid and estimates spend only with an average CPC', () => {
    const counts = emptyCounts();
    counts.clicks = 7;
    counts.labels = { CLEAN: 3, SUSPICIOUS: 1, FRAUD: 3 };
    expect(dayFigures(counts, 0.35)).toEqual({
      clicks: 7,
      clean: 3,
      suspicious: 1,
      invalid: 3,
      invalidShare: 0.4286,
      wastedSpend: 1.05,
    });
    expect(dayFigures(counts, null).wastedSpend).toBeNull();
    expect(dayFigures(emptyCounts(), 2).invalidShare).toBe(0);
  });
});

describe('rankSources', () => {
  it('ranks named sources with enough clicks by clicks, with conversion rates and the learned evidence', async () => {
    const store = new MemorySourceStatsStore();
    await store.apply([
      { propertyId: 'p', sources: ['campaign:1'], clicks: 200, conversions: 10 },
      { propertyId: 'p', sources: ['placement:spam.example'], clicks: 400, conversions: 0 },
      { propertyId: 'p', sources: ['network:d'], clicks: MIN_RANKED_CLICKS - 1, conversions: 2 },
      // Clicks FRAUD at click time count only towards the invalid share (and the ranking by clicks).
      { propertyId: 'p', sources: ['placement:spam.example'], clicks: 0, conversions: 0, fraud: 100 },
      { propertyId: 'p', sources: ['network:x'], clicks: 0, conversions: 0, fraud: MIN_RANKED_CLICKS },
    ]);
    const ranked = await trafficSources('p', Date.now(), store);
    expect(ranked).toEqual({
      tracksConversions: true,
      propertyConversionRate: 0.0194,
      sources: [
        {
          source: 'placement:spam.example',
          clicks: 400,
          conversions: 0,
          conversionRate: 0,
          invalidShare: 0.2,
          learned: 'placement spam.example: 0 conversions in 400 clicks; property 1.9 %',
        },
        { source: 'campaign:1', clicks: 200, conversions: 10, conversionRate: 0.05, invalidShare: 0, learned: null },
        { source: 'network:x', clicks: 0, conversions: 0, conversionRate: 0, invalidShare: 1, learned: null },
      ],
    });
  });
});

describe('explainClick', () => {
  const outcome = {
    score: 90,
    label: 'FRAUD',
    action: 'BLOCK',
    botLevel: 'critical',
    botAction: 'challenge',
    rules: ['datacenter_ip'],
  } as const;
  const click: StoredClick = {
    clickId: 'clk_1',
    propertyId: 'prop_1',
    visitorId: 'vis_1',
    at: Date.UTC(2026, 10, 30),
    ip: '3.5.140.2',
    valueTrack: { campaignid: '1' },
    atClick: outcome,
    current: outcome,
    reasons: [{ rule: 'datacenter_ip', score: 45, details: 'AWS IP range (S3)' }],
    beaconAt: Date.UTC(2026, 10, 30, 0, 0, 5),
    version: 2,
  };
  const config = (over: Partial<EffectiveConfig>): EffectiveConfig => ({
    ...DEFAULT_CONFIG,
    adAccount: null,
    name: 'Shop',
    currency: 'EUR',
    timezone: 'UTC',
    plan: 'starter',
    ...over,
  });

  it('says what was done: blocked unless monitor-only, and the Google Ads state', () => {
    expect(explainClick(click, config({}), true).done).toEqual({
      blocked: true,
      monitorOnly: false,
      onBlocklist: true,
      adsExclusion: 'not_linked',
    });
    const linked = { provider: 'google_ads', customerId: '123-456-7890', enabled: true } as const;
    expect(explainClick(click, config({ monitorOnly: true, adAccount: linked }), true).done).toEqual({
      blocked: false,
      monitorOnly: true,
      onBlocklist: true,
      adsExclusion: 'pushed_hourly',
    });
    expect(explainClick(click, config({ adAccount: linked }), false).done.adsExclusion).toBe('not_on_blocklist');
    expect(explainClick(click, config({ adAccount: { ...linked, enabled: false } }), true).done.adsExclusion).toBe(
      'link_disabled',
    );
  });

  it('shows the beacon and conversion times, and no internal fields', () => {
    const explained = explainClick(click, config({}), false);
    expect(explained.beacon).toEqual({ received: true, at: '2026-11-30T00:00:05.000Z' });
    expect(explained.conversion).toEqual({ converted: false, at: null });
    expect(explained).not.toHaveProperty('version');
    expect(explained).not.toHaveProperty('propertyId');
    expect(explained.signals).toEqual({ click: [], behaviour: [] });
  });
});

describe('calibration', () => {
  const outcome = (score: number, label: Label, rules: string[]): Outcome => ({
    score,
    label,
    action: label === 'FRAUD' ? 'BLOCK' : 'ALLOW',
    botLevel: 'low',
    botAction: 'record_only',
    rules,
  });

  it('counts a new click once by its at-click outcome and its trusted conversion once', () => {
    const atClick = outcome(87, 'FRAUD', ['datacenter_ip', 'headless', 'headless']);
    const first = rollupDelta({ after: atClick, isNewClick: true, atClick });
    expect(
      Object.fromEntries([...first].filter(([name]) => name.startsWith('atClick:') || name.startsWith('converted:'))),
    ).toEqual({
      'atClick:band:FRAUD': 1,
      'atClick:decile:8': 1,
      'atClick:rule:datacenter_ip': 1,
      'atClick:rule:headless': 1,
    });
    // The conversion re-scores the click to CLEAN: the current-verdict counters move, the at-click ones stay.
    const converts = rollupDelta({
      before: atClick,
      after: outcome(12, 'CLEAN', ['converted']),
      isNewClick: false,
      atClick,
      converts: true,
    });
    expect(converts.get('atClick:band:FRAUD')).toBeUndefined();
    expect(converts.get('converted:band:FRAUD')).toBe(1);
    expect(converts.get('converted:decile:8')).toBe(1);
    expect(converts.get('converted:rule:headless')).toBe(1);
    expect(converts.get('label:FRAUD')).toBe(-1);
  });

  it('turns summed counters into rates per band, decile and rule, null without clicks', () => {
    const counts = emptyCounts();
    addCounters(
      counts,
      Object.entries({
        'atClick:band:CLEAN': 77,
        'atClick:band:FRAUD': 812,
        'converted:band:CLEAN': 3,
        'atClick:decile:0': 77,
        'converted:decile:0': 3,
        'atClick:decile:9': 812,
        'atClick:rule:datacenter_ip': 812,
        'atClick:rule:velocity_ip': 40,
        'converted:rule:velocity_ip': 1,
      }),
    );
    const result = calibration(counts);
    expect(result.total).toEqual({ clicks: 889, conversions: 3, conversionRate: 0.0034 });
    expect(result.bands).toEqual([
      { band: 'CLEAN', clicks: 77, conversions: 3, conversionRate: 0.039 },
      { band: 'SUSPICIOUS', clicks: 0, conversions: 0, conversionRate: null },
      { band: 'FRAUD', clicks: 812, conversions: 0, conversionRate: 0 },
    ]);
    expect(result.deciles[0]).toEqual({ fromScore: 0, toScore: 9, clicks: 77, conversions: 3, conversionRate: 0.039 });
    expect(result.deciles[9]).toMatchObject({ fromScore: 90, toScore: 100, clicks: 812 });
    expect(result.rules.map((r) => [r.rule, r.clicks, r.conversions])).toEqual([
      ['datacenter_ip', 812, 0],
      ['velocity_ip', 40, 1],
    ]);
  });
});
