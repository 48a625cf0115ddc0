import { customerFor, customerOptions, GoogleAdsAccount } from '../../../shared/googleAds/adsAccount';
import { GoogleAdsSecretError, parseGoogleAdsSecret } from '../../../shared/googleAds/credentials';
import { type ExclusionDeps, planExclusions, runExclusions } from '../../../shared/googleAds/exclusionRun';
import { sourceQualityPlacements } from '../../../shared/googleAds/placements';
import { RecordedGoogleAds } from '../../../shared/googleAds/recordedGoogleAds';
import {
  collapseRangeOf,
  exclusionPriority,
  RECENCY_HALF_LIFE_DAYS,
  type SelectionInput,
  selectExclusions,
} from '../../../shared/googleAds/selection';
import { DEFAULT_CONFIG, type EffectiveConfig } from '../../../shared/properties/config';
import { memoryClickStores } from '../../../shared/store';
import { MemoryExclusionLedger } from '../../../shared/store/exclusionLedger';
import { MemorySourceStatsStore } from '../../../shared/store/sourceStats';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const CUSTOMER = '1234567890';
const CAMPAIGN_METHOD = 'CampaignCriterionService.mutateCampaignCriteria';
const ACCOUNT_METHOD = 'CustomerNegativeCriterionService.mutateCustomerNegativeCriteria';
const CREDENTIALS = { developer_token: 'd', client_id: 'c', client_secret: 's', refresh_token: 'r' };

function config(overrides: Partial<EffectiveConfig> = {}): EffectiveConfig {
  return {
    ...DEFAULT_CONFIG,
    thresholds: { suspicious: 40, fraud: 70 },
    adAccount: { provider: 'google_ads', customerId: '123-456-7890', enabled: true },
    name: 'p',
    currency: 'USD',
    timezone: 'UTC',
    plan: 'free',
    ...overrides,
  };
}

/** The real google-ads-api Customer, answered by the recorded account through its hooks. */
function setup(
  google = new RecordedGoogleAds(CUSTOMER).addCampaign('11', 'SEARCH').addCampaign('12', 'PERFORMANCE_MAX'),
) {
  const stores = memoryClickStores();
  const ledger = new MemoryExclusionLedger();
  const sleeps: number[] = [];
  const deps = (now = NOW): ExclusionDeps => ({
    ipReputation: stores.ipReputation,
    ledger,
    now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    accountFor: async (_id, link) =>
      new GoogleAdsAccount(customerFor(CREDENTIALS, link, undefined, google.hooks()), link.customerId),
  });
  const seen = (ip: string, score: number, daysAgo = 1, reason = 'datacenter_ip') =>
    stores.ipReputation.recordIpOutcome({ propertyId: 'prop_1', ip, at: NOW - daysAgo * DAY, score, reason });
  return { google, ledger, deps, seen, sleeps };
}

const property = (overrides: Partial<EffectiveConfig> = {}) => ({ propertyId: 'prop_1', config: config(overrides) });
describe('selection within the caps', () => {
  const bad = (ip: string, score = 90, lastSeen = NOW, clicks = 1) => ({ ip, score, lastSeen, clicks, reason: 'r' });
  const base: Omit<SelectionInput, 'bad'> = {
    neighbours: [],
    allowlist: [],
    suppressed: new Set<string>(),
    room: { account: 500, campaign: 500 },
    now: NOW,
  };

  it('collapses three bad addresses of one /24 (and /64) into the range', () => {
    const selection = selectExclusions({
      ...base,
      bad: [
        bad('192.0.2.1'),
        bad('192.0.2.9'),
        bad('192.0.2.200'),
        bad('2001:db8::1'),
        bad('2001:db8::2'),
        bad('2001:db8::3'),
      ],
    });
    expect(selection.selected.map((s) => s.value).sort()).toEqual(['192.0.2.0/24', '2001:db8::/64']);
    expect(selection.collapsed[0]).toEqual({
      range: '192.0.2.0/24',
      addresses: ['192.0.2.1', '192.0.2.200', '192.0.2.9'],
    });
    expect(collapseRangeOf('::ffff:192.0.2.7')).toBe('192.0.2.0/24');
  });

  it('never collapses over an allowlisted address, a suspicious neighbour or a taken-back address', () => {
    const trio = [bad('192.0.2.1'), bad('192.0.2.2'), bad('192.0.2.3')];
    const keepsAddresses = (input: Partial<typeof base>) =>
      selectExclusions({ ...base, ...input, bad: trio }).selected.map((s) => s.value);
    expect(keepsAddresses({ allowlist: ['192.0.2.128/25'] })).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(
      keepsAddresses({ neighbours: [{ ip: '192.0.2.50', score: 45, lastSeen: NOW, clicks: 1, reason: 'r' }] }),
    ).toHaveLength(3);
    expect(keepsAddresses({ suppressed: new Set(['192.0.2.2']) })).toEqual(['192.0.2.1', '192.0.2.3']);
    expect(keepsAddresses({ allowlist: ['192.0.2.2'] })).toEqual(['192.0.2.1', '192.0.2.3']);
  });

  it('ranks by score then recency, fills the account level, then the campaign level, and reports the rest', () => {
    const selection = selectExclusions({
      ...base,
      room: { account: 1, campaign: 1 },
      bad: [bad('10.0.1.1', 80, NOW), bad('10.0.2.1', 95, NOW - DAY), bad('10.0.3.1', 80, NOW - DAY)],
    });
    expect(selection.selected.map((s) => [s.value, s.level])).toEqual([
      ['10.0.2.1', 'account'],
      ['10.0.1.1', 'campaign'],
    ]);
    expect(selection.leftOut.map((l) => [l.value, l.why])).toEqual([['10.0.3.1', 'no room']]);
  });

  it('ranks a high-volume address above a one-off at equal score and recency, and says the click count', () => {
    const selection = selectExclusions({
      ...base,
      room: { account: 1, campaign: 0 },
      bad: [bad('10.0.1.1', 90, NOW, 1), bad('10.0.2.1', 90, NOW, 40)],
    });
    expect(selection.selected).toEqual([
      expect.objectContaining({ value: '10.0.2.1', level: 'account', clicks: 40, reason: 'r (40 clicks)' }),
    ]);
    expect(selection.leftOut).toEqual([
      expect.objectContaining({ value: '10.0.1.1', clicks: 1, reason: 'r (1 click)', why: 'no room' }),
    ]);
  });

  it('weighs score, volume and recency by the documented formula; a collapsed range sums its clicks', () => {
    const priority = (score: number, clicks: number, daysAgo: number) =>
      exclusionPriority({ score, clicks, lastSeen: NOW - daysAgo * DAY }, NOW);
    expect(priority(100, 10, RECENCY_HALF_LIFE_DAYS)).toBeCloseTo(1 * 2 * 0.5, 10);
    expect(priority(80, 100, 0)).toBeCloseTo(0.8 * 3, 10);
    expect(priority(90, 0, 0)).toBeCloseTo(0.9, 10); // a record without clicks weighs as one
    // Certainty is not drowned by a few clicks: a sure one-off beats a borderline address clicking three times.
    expect(priority(95, 1, 0)).toBeGreaterThan(priority(60, 3, 0));
    // A flood that went quiet a month ago yields to a sure address clicking today.
    expect(priority(95, 1, 0)).toBeGreaterThan(priority(95, 30, 45));

    const range = selectExclusions({
      ...base,
      bad: [bad('192.0.2.1', 90, NOW, 5), bad('192.0.2.2', 80, NOW, 7), bad('192.0.2.3', 85, NOW, 1)],
    });
    expect(range.selected).toEqual([
      expect.objectContaining({
        value: '192.0.2.0/24',
        clicks: 13,
        reason: '3 bad addresses in 192.0.2.0/24 (13 clicks); top: r',
      }),
    ]);
  });
});

describe('exclusion runs against the recorded Google Ads transport', () => {
  it('sends the exact mutate operations, leaves manual exclusions alone, and a second run changes nothing', async () => {
    const { google, deps, seen, ledger } = setup();
    const manual = google.addManualExclusion('203.0.113.7', '11');
    google.addManualExclusion('203.0.113.8');
    await seen('198.51.100.1', 95);
    await seen('198.51.100.2', 60);
    await seen('203.0.113.7', 99);

    const report = await runExclusions(deps(), property(), 'run-1');
    expect(report.failed).toEqual([]);
    const mutates = google.mutateCalls();
    expect(mutates).toEqual([
      {
        kind: 'mutate',
        method: ACCOUNT_METHOD,
        request: {
          customer_id: CUSTOMER,
          operations: [
            { create: { ip_block: { ip_address: '203.0.113.7' } }, operation: 'create' },
            { create: { ip_block: { ip_address: '198.51.100.1' } }, operation: 'create' },
          ],
          partial_failure: true,
        },
      },
    ]);
    expect(google.snapshot()).toEqual({
      '11': ['203.0.113.7'],
      account: ['198.51.100.1', '203.0.113.7', '203.0.113.8'],
    });
    expect((await ledger.owned('prop_1')).map((o) => o.resourceName)).not.toContain(manual);
    expect((await ledger.changeLog('prop_1', 10)).map((e) => [e.action, e.value, e.runId])).toEqual([
      ['added', '198.51.100.1', 'run-1'],
      ['added', '203.0.113.7', 'run-1'],
    ]);

    const calls = google.calls.length;
    const again = await runExclusions(deps(), property(), 'run-2');
    expect([again.added, again.removed, again.plan.add, again.plan.remove]).toEqual([0, 0, [], []]);
    expect(google.calls.slice(calls).every((c) => c.kind === 'query')).toBe(true);
  });

  it('plans with the 500 caps at both levels: manual exclusions count, the rest goes to campaigns that take it', async () => {
    const { google, deps, seen } = setup();
    for (let i = 0; i < 10; i++) google.addManualExclusion(`203.0.113.${i}`);
    for (let i = 0; i < 5; i++) google.addManualExclusion(`203.0.114.${i}`, '11');
    // 1000 bad addresses, one per /24 so nothing collapses.
    for (let i = 0; i < 1000; i++) await seen(`10.${Math.floor(i / 250)}.${i % 250}.1`, 90 - (i % 10), 1);
    const plan = await planExclusions(deps(), property());
    expect(plan.room).toEqual({ account: 490, campaign: 495 });
    expect(plan.add.filter((a) => a.level === 'account')).toHaveLength(490);
    expect(plan.add.filter((a) => a.level === 'campaign').every((a) => a.campaignId === '11')).toBe(true);
    expect(plan.add.filter((a) => a.level === 'campaign')).toHaveLength(495);
    expect(plan.leftOut).toHaveLength(15);
    expect(plan.campaigns).toEqual([
      { id: '11', channelType: 'SEARCH', takesIpExclusions: true },
      { id: '12', channelType: 'PERFORMANCE_MAX', takesIpExclusions: false },
    ]);
    const report = await runExclusions(deps(), property());
    expect(report.failed).toEqual([]);
    expect(google.snapshot().account).toHaveLength(500);
    expect(google.snapshot()['11']).toHaveLength(500);
  });

  it('handles ResourceCountLimitExceeded per criterion when the account filled up behind its back', async () => {
    const { google, deps, seen } = setup();
    await seen('198.51.100.1', 95);
    await seen('198.51.100.2', 94);
    // The advertiser fills the account list between the plan's read and the mutate.
    const raced: ExclusionDeps = {
      ...deps(),
      accountFor: async (id, link) => {
        const account = await deps().accountFor(id, link);
        return {
          listCampaigns: () => account!.listCampaigns(),
          listIpExclusions: () => account!.listIpExclusions(),
          removeIpExclusions: (level, entries) => account!.removeIpExclusions(level, entries),
          listPlacementExclusions: () => account!.listPlacementExclusions(),
          addPlacementExclusions: (values) => account!.addPlacementExclusions(values),
          addIpExclusions: (level, campaignId, values) => {
            for (let i = google.snapshot().account?.length ?? 0; i < 500; i++)
              google.addManualExclusion(`172.16.0.${i % 250}`);
            return account!.addIpExclusions(level, campaignId, values);
          },
        };
      },
    };
    const report = await runExclusions(raced, property(), 'run-full');
    expect(report.added).toBe(0);
    expect(report.failed).toEqual([
      { value: '198.51.100.1', level: 'account', error: 'RESOURCE_COUNT_LIMIT_EXCEEDED', attempts: 1 },
      { value: '198.51.100.2', level: 'account', error: 'RESOURCE_COUNT_LIMIT_EXCEEDED', attempts: 1 },
    ]);
    expect(google.snapshot().account).toHaveLength(500);
  });

  it('retries criteria that failed retryably with backoff, and reports each failure', async () => {
    const { google, deps, seen, sleeps, ledger } = setup();
    await seen('198.51.100.1', 95);
    google.inject({ method: ACCOUNT_METHOD, times: 2, error: 'quota' });
    const report = await runExclusions(deps(), property(), 'run-retry');
    expect(report.failed).toEqual([]);
    expect(report.added).toBe(1);
    expect(sleeps).toEqual([500, 1000]);
    expect(google.mutateCalls()).toHaveLength(3);

    google.inject({ method: CAMPAIGN_METHOD, times: 9, error: 'internal' });
    for (let i = 0; i < 500; i++) await seen(`10.9.${Math.floor(i / 2)}.${i % 2}`, 80);
    const failing = await runExclusions(deps(), property(), 'run-fail');
    expect(failing.failed.length).toBeGreaterThan(0);
    expect(failing.failed[0]).toMatchObject({
      level: 'campaign',
      campaignId: '11',
      error: 'TRANSIENT_ERROR',
      attempts: 4,
    });
    expect((await ledger.changeLog('prop_1', 1))[0]).toMatchObject({ action: 'failed', error: 'TRANSIENT_ERROR' });
  });

  it("removes expired exclusions it owns, never the advertiser's, and keeps a taken-back address out", async () => {
    const { google, deps, seen, ledger } = setup();
    google.addManualExclusion('203.0.113.9');
    await seen('198.51.100.1', 95, 1);
    await seen('198.51.100.2', 95, 20);
    await runExclusions(deps(), property(), 'run-a');
    expect(google.snapshot().account).toEqual(['198.51.100.1', '198.51.100.2', '203.0.113.9']);

    const later = await runExclusions(deps(NOW + 15 * DAY), property({ exclusionExpiryDays: 30 }), 'run-b');
    expect(later.plan.remove).toEqual([
      expect.objectContaining({ value: '198.51.100.2', reason: expect.stringMatching(/^expired/) }),
    ]);
    const removals = google.mutateCalls().at(-1)!;
    expect(removals.request.operations).toEqual([
      { remove: expect.stringMatching(/^customers\/1234567890\/customerNegativeCriteria\//), operation: 'remove' },
    ]);
    expect(google.snapshot().account).toEqual(['198.51.100.1', '203.0.113.9']);

    await ledger.suppress('prop_1', '198.51.100.1', new Date(NOW).toISOString());
    const taken = await planExclusions(deps(NOW + 15 * DAY), property());
    expect(taken.remove.map((r) => [r.value, r.reason])).toEqual([['198.51.100.1', 'taken back by the advertiser']]);
  });

  it('monitor-only and dry-run compute and record the plan without a single mutate', async () => {
    for (const overrides of [{ monitorOnly: true }, { exclusionDryRun: true }]) {
      const { google, deps, seen, ledger } = setup();
      await seen('198.51.100.1', 95);
      const report = await runExclusions(deps(), property(overrides), 'dry');
      expect(report.plan.add.map((a) => a.value)).toEqual(['198.51.100.1']);
      expect(google.mutateCalls()).toEqual([]);
      expect(await ledger.owned('prop_1')).toEqual([]);
      expect((await ledger.changeLog('prop_1', 5))[0]).toMatchObject({ action: 'dry_run', runId: 'dry' });
    }
  });

  it('collapses a /24 in the account and replaces the addresses it held', async () => {
    const { google, deps, seen } = setup();
    await seen('192.0.2.1', 95);
    await runExclusions(deps(), property());
    await seen('192.0.2.2', 95);
    await seen('192.0.2.3', 95);
    const report = await runExclusions(deps(), property());
    expect(report.plan.collapsed).toEqual([
      { range: '192.0.2.0/24', addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3'] },
    ]);
    expect(report.plan.remove.map((r) => r.reason)).toEqual(['replaced by the range 192.0.2.0/24']);
    expect(google.snapshot().account).toEqual(['192.0.2.0/24']);
  });

  it('answers a plan before any account is linked, saying the account state is unknown', async () => {
    const { deps, seen } = setup();
    await seen('198.51.100.1', 95);
    const plan = await planExclusions(deps(), property({ adAccount: null }));
    expect(plan).toMatchObject({ mode: 'not_linked', accountState: 'unknown', manual: [] });
    expect(plan.add.map((a) => [a.value, a.level])).toEqual([['198.51.100.1', 'account']]);
  });
});

describe('Google Ads credentials secret', () => {
  const filled = {
    developer_token: 'dev-token-value',
    client_id: 'client-id-value',
    client_secret: 'client-secret-value',
    refresh_token: 'refresh-token-value',
  };

  it('treats the stack’s empty secret, and one without the required fields, as not configured', () => {
    const empty = { developer_token: '', client_id: '', client_secret: '', refresh_token: '', login_customer_id: '' };
    expect(parseGoogleAdsSecret(JSON.stringify(empty))).toBeUndefined();
    expect(parseGoogleAdsSecret('{}')).toBeUndefined();
  });

  it('reads filled credentials, with or without a login customer id', () => {
    expect(parseGoogleAdsSecret(JSON.stringify({ ...filled, login_customer_id: '' }))).toEqual(filled);
    expect(parseGoogleAdsSecret(JSON.stringify({ ...filled, login_customer_id: '111-222-3333' }))).toEqual({
      ...filled,
      login_customer_id: '111-222-3333',
    });
  });

  it('refuses a partly filled secret naming the fields, never their values', () => {
    const partial = { ...filled, client_secret: '', login_customer_id: 'not-an-id' };
    expect(() => parseGoogleAdsSecret(JSON.stringify(partial))).toThrow(GoogleAdsSecretError);
    try {
      parseGoogleAdsSecret(JSON.stringify(partial));
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toBe('the Google Ads secret is incomplete or invalid: client_secret, login_customer_id');
      for (const value of Object.values(partial)) if (value) expect(message).not.toContain(value);
    }
  });

  it('refuses malformed JSON without quoting it', () => {
    for (const raw of ['{"developer_token": "dev-token-value", oops', '["dev-token-value"]', undefined]) {
      expect(() => parseGoogleAdsSecret(raw)).toThrow(GoogleAdsSecretError);
      expect(() => parseGoogleAdsSecret(raw)).not.toThrow(/dev-token-value/);
    }
  });

  it('takes the manager account and refresh token from the property first, then from the secret', () => {
    const credentials = { ...filled, login_customer_id: '111-222-3333' };
    expect(customerOptions(credentials, { customerId: '123-456-7890', loginCustomerId: '999-888-7777' })).toEqual({
      customer_id: '1234567890',
      refresh_token: 'refresh-token-value',
      login_customer_id: '9998887777',
    });
    expect(customerOptions(credentials, { customerId: '123-456-7890' }).login_customer_id).toBe('1112223333');
    expect(customerOptions(filled, { customerId: '123-456-7890' }, 'property-token').refresh_token).toBe(
      'property-token',
    );
    expect(customerOptions(filled, { customerId: '123-456-7890' })).toEqual({
      customer_id: '1234567890',
      refresh_token: 'refresh-token-value',
    });
  });
});

describe('placement exclusions from the source statistics', () => {
  async function statsWith(badClicks: number) {
    const sources = new MemorySourceStatsStore();
    await sources.apply([
      { propertyId: 'prop_1', sources: ['placement:good.example'], clicks: 400, conversions: 40 },
      {
        propertyId: 'prop_1',
        sources: badClicks > 0 ? ['placement:junk-site.example', 'placement:mobileapp::2-123'] : [],
        clicks: badClicks,
        conversions: 0,
      },
    ]);
    return sourceQualityPlacements(sources);
  }

  it('adapts the learned source statistics: flagged web placements only, with the evidence', async () => {
    const placements = await (await statsWith(300)).lowQualityPlacements('prop_1', NOW);
    expect(placements).toEqual([
      {
        placement: 'junk-site.example',
        clicks: 300,
        conversions: 0,
        reason: 'placement junk-site.example: 0 conversions in 300 clicks; property 5.7 %',
      },
    ]);
  });

  it('pushes them at account level, owned and logged, leaves the advertiser’s own, and removes them once cleared', async () => {
    const { google, deps, ledger } = setup();
    google.addManualPlacementExclusion('advertiser-choice.example');
    const flagged = { ...deps(), placements: await statsWith(300) };
    const report = await runExclusions(flagged, property(), 'run-p');
    expect(report.failed).toEqual([]);
    expect(google.mutateCalls().at(-1)?.request.operations).toEqual([
      { create: { placement: { url: 'junk-site.example' } }, operation: 'create' },
    ]);
    expect(google.snapshot().placements).toEqual(['advertiser-choice.example', 'junk-site.example']);
    expect((await ledger.owned('prop_1')).map((o) => [o.value, o.kind])).toEqual([['junk-site.example', 'placement']]);
    expect(report.plan.manual).toContainEqual({
      value: 'advertiser-choice.example',
      level: 'account',
      kind: 'placement',
    });

    expect((await runExclusions(flagged, property(), 'again')).plan.add).toEqual([]);
    const switchedOff = await planExclusions(flagged, property({ exclusionPlacements: false }));
    expect(switchedOff.remove.map((r) => [r.value, r.reason])).toEqual([
      ['junk-site.example', 'no longer judged low quality'],
    ]);

    const cleared = await runExclusions({ ...deps(), placements: await statsWith(0) }, property(), 'run-q');
    expect(cleared.removed).toBe(1);
    expect(google.snapshot().placements).toEqual(['advertiser-choice.example']);
  });
});

describe('per-property refresh tokens', () => {
  it('reads them from the Google Ads secret by property id, naming a bad entry without its value', () => {
    const base = { developer_token: 'd', client_id: 'c', client_secret: 's', refresh_token: 'deployment-token' };
    const parsed = parseGoogleAdsSecret(
      JSON.stringify({ ...base, property_refresh_tokens: { prop_agency: 'agency-token-value' } }),
    );
    expect(parsed?.property_refresh_tokens).toEqual({ prop_agency: 'agency-token-value' });
    const own = parsed?.property_refresh_tokens?.prop_agency;
    expect(customerOptions(parsed!, { customerId: '123-456-7890' }, own).refresh_token).toBe('agency-token-value');
    expect(() =>
      parseGoogleAdsSecret(JSON.stringify({ ...base, property_refresh_tokens: { 'not-a-property': 'leaky-value' } })),
    ).toThrow(/property_refresh_tokens/);
    expect(() =>
      parseGoogleAdsSecret(JSON.stringify({ ...base, property_refresh_tokens: { 'not-a-property': 'leaky-value' } })),
    ).not.toThrow(/leaky-value/);
  });
});
