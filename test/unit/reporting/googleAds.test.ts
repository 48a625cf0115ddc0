import { blocklistPushHandler } from '../../../functions/scheduled/blocklist-push';
import { memoryDecisionStores } from '../../../shared/decisions';
import { pushPropertyBlocklist } from '../../../shared/googleAds/blocklistPush';
import { GoogleAdsSecretError, parseGoogleAdsSecret } from '../../../shared/googleAds/credentials';
import { MAX_IP_EXCLUSIONS_PER_CAMPAIGN, planExclusions, syncCampaign } from '../../../shared/googleAds/exclusions';
import {
  type AdsCustomer,
  customerOptions,
  ENABLED_CAMPAIGNS_QUERY,
  GoogleAdsExclusionTarget,
} from '../../../shared/googleAds/googleAdsTarget';
import { logger } from '../../../shared/observability';
import { DEFAULT_CONFIG, type EffectiveConfig } from '../../../shared/properties/config';

const entry = (ip: string, score: number) => ({ ip, score, lastSeen: '2026-01-01T00:00:00.000Z', reason: 'r' });
const ipOf = (i: number) => `10.${Math.floor(i / 256)}.${i % 256}.1`;

describe('Google Ads exclusion plan', () => {
  it('adds new addresses and removes those no longer listed', () => {
    const plan = planExclusions(
      [
        { ip: '192.0.2.1', resourceName: 'rn/1' },
        { ip: '192.0.2.2', resourceName: 'rn/2' },
      ],
      [entry('192.0.2.2', 90), entry('192.0.2.3', 80)],
    );
    expect(plan).toEqual({ add: ['192.0.2.3'], remove: ['rn/1'] });
  });

  it('keeps only the 500 highest scores, pushing out excluded lower ones', () => {
    const blocklist = Array.from({ length: 600 }, (_, i) => entry(ipOf(i), 100 - Math.floor(i / 10)));
    const current = [
      { ip: ipOf(599), resourceName: 'rn/low' },
      { ip: ipOf(0), resourceName: 'rn/top' },
    ];
    const plan = planExclusions(current, blocklist);
    expect(plan.remove).toEqual(['rn/low']);
    expect(plan.add).toHaveLength(MAX_IP_EXCLUSIONS_PER_CAMPAIGN - 1);
    expect(plan.add).not.toContain(ipOf(500));
    expect(plan.add[0]).toBe(ipOf(1));
  });
});

describe('Google Ads target through a fake Customer', () => {
  function fakeCustomer(rows: unknown[], campaignRows: unknown[] = []) {
    const calls = { queries: [] as string[], created: [] as unknown[], removed: [] as string[] };
    const customer: AdsCustomer = {
      query: async <T>(gaql: string) => {
        calls.queries.push(gaql);
        return (gaql.includes('FROM campaign_criterion') ? rows : campaignRows) as T;
      },
      campaignCriteria: {
        create: async (criteria) => {
          calls.created.push(...criteria);
          return {};
        },
        remove: async (names) => {
          calls.removed.push(...names);
          return {};
        },
      },
    };
    return { customer, calls };
  }

  it('reads IP_BLOCK criteria, removes stale ones and creates negative IP blocks on the campaign', async () => {
    const { customer, calls } = fakeCustomer([
      {
        campaign_criterion: {
          resource_name: 'customers/1234567890/campaignCriteria/42~1',
          ip_block: { ip_address: '192.0.2.1' },
        },
      },
      {
        campaign_criterion: {
          resource_name: 'customers/1234567890/campaignCriteria/42~2',
          ip_block: { ip_address: '192.0.2.2' },
        },
      },
    ]);
    const target = new GoogleAdsExclusionTarget(customer, '123-456-7890');
    const plan = await syncCampaign(target, '42', [entry('192.0.2.2', 95), entry('198.51.100.9', 88)]);
    expect(plan).toEqual({ add: ['198.51.100.9'], remove: ['customers/1234567890/campaignCriteria/42~1'] });
    expect(calls.queries[0]).toContain("campaign_criterion.type = 'IP_BLOCK' AND campaign.id = 42");
    expect(calls.removed).toEqual(['customers/1234567890/campaignCriteria/42~1']);
    expect(calls.created).toEqual([
      { campaign: 'customers/1234567890/campaigns/42', negative: true, ip_block: { ip_address: '198.51.100.9' } },
    ]);
  });
  it('lists the enabled campaigns that take IP exclusions, as strings', async () => {
    const { customer, calls } = fakeCustomer([], [{ campaign: { id: 111 } }, { campaign: { id: '222' } }, {}]);
    const target = new GoogleAdsExclusionTarget(customer, '123-456-7890');
    expect(await target.listCampaignIds()).toEqual(['111', '222']);
    expect(calls.queries).toEqual([ENABLED_CAMPAIGNS_QUERY]);
    expect(ENABLED_CAMPAIGNS_QUERY).toMatch(/^SELECT campaign\.id FROM campaign WHERE campaign\.status = 'ENABLED' /);
    expect(ENABLED_CAMPAIGNS_QUERY).toContain("campaign.advertising_channel_type IN ('SEARCH', 'DISPLAY', 'SHOPPING')");
  });

  const config = (adAccount: EffectiveConfig['adAccount'], allowlist: string[] = []): EffectiveConfig => ({
    ...DEFAULT_CONFIG,
    thresholds: { suspicious: 40, fraud: 75 },
    allowlist,
    adAccount,
    name: 'p',
    currency: 'USD',
    timezone: 'UTC',
    plan: 'free',
  });

  it('pushes a link without campaignIds to every enabled campaign: threshold, allowlist and window applied', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const { ipReputation } = memoryDecisionStores();
    const seen = (ip: string, score: number, daysAgo = 1) =>
      ipReputation.recordIpOutcome({ propertyId: 'prop_1', ip, at: now - daysAgo * 86_400_000, score, reason: 'r' });
    await seen('192.0.2.10', 90);
    await seen('192.0.2.11', 75);
    await seen('192.0.2.12', 74);
    await seen('192.0.2.13', 99, 31);
    await seen('198.51.100.7', 100);
    const { customer, calls } = fakeCustomer([], [{ campaign: { id: 7 } }, { campaign: { id: 8 } }]);
    const accounts: unknown[] = [];
    const account = { provider: 'google_ads' as const, customerId: '123-456-7890', enabled: true };

    const pushed = await pushPropertyBlocklist(
      {
        ipReputation,
        now,
        targetFor: (link) => {
          accounts.push(link);
          return new GoogleAdsExclusionTarget(customer, link.customerId);
        },
      },
      { propertyId: 'prop_1', config: config(account, ['198.51.100.0/24']) },
    );

    expect(accounts).toEqual([account]);
    expect(pushed).toEqual([
      { campaignId: '7', add: ['192.0.2.10', '192.0.2.11'], remove: [] },
      { campaignId: '8', add: ['192.0.2.10', '192.0.2.11'], remove: [] },
    ]);
    expect(calls.queries[0]).toBe(ENABLED_CAMPAIGNS_QUERY);
    expect(calls.created).toEqual(
      ['7', '7', '8', '8'].map((id, i) => ({
        campaign: `customers/1234567890/campaigns/${id}`,
        negative: true,
        ip_block: { ip_address: i % 2 ? '192.0.2.11' : '192.0.2.10' },
      })),
    );
  });

  it('leaves unlinked and disabled links alone, and names the campaigns that failed', async () => {
    const { ipReputation } = memoryDecisionStores();
    await ipReputation.recordIpOutcome({ propertyId: 'prop_2', ip: '192.0.2.1', at: 1, score: 95, reason: 'r' });
    const targetFor = jest.fn();
    const deps = { ipReputation, now: 2, targetFor };
    const account = { provider: 'google_ads' as const, customerId: '1234567890', campaignIds: ['1', '2'] };
    expect(await pushPropertyBlocklist(deps, { propertyId: 'prop_2', config: config(null) })).toBeUndefined();
    expect(
      await pushPropertyBlocklist(deps, { propertyId: 'prop_2', config: config({ ...account, enabled: false }) }),
    ).toBeUndefined();
    expect(targetFor).not.toHaveBeenCalled();

    const added: string[] = [];
    const failing = {
      listCampaignIds: async () => [],
      listIpExclusions: async (campaignId: string) => {
        if (campaignId === '1') throw new Error('RESOURCE_LIMIT');
        return [];
      },
      addIpExclusions: async (campaignId: string) => {
        added.push(campaignId);
      },
      removeIpExclusions: async () => {},
    };
    await expect(
      pushPropertyBlocklist(
        { ipReputation, now: 2, targetFor: () => failing },
        { propertyId: 'prop_2', config: config({ ...account, enabled: true }) },
      ),
    ).rejects.toThrow('1 of 2 campaigns not synced');
    expect(added).toEqual(['2']);
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

  it('takes the manager account from the property’s link first, then from the secret', () => {
    const credentials = { ...filled, login_customer_id: '111-222-3333' };
    expect(customerOptions(credentials, { customerId: '123-456-7890', loginCustomerId: '999-888-7777' })).toEqual({
      customer_id: '1234567890',
      refresh_token: 'refresh-token-value',
      login_customer_id: '9998887777',
    });
    expect(customerOptions(credentials, { customerId: '123-456-7890' }).login_customer_id).toBe('1112223333');
    expect(customerOptions(filled, { customerId: '123-456-7890' })).toEqual({
      customer_id: '1234567890',
      refresh_token: 'refresh-token-value',
    });
  });
});

describe('blocklist push handler', () => {
  it('skips with one info line while the credentials are not configured', async () => {
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    const targetFor = jest.fn();
    const run = blocklistPushHandler({ credentials: async () => undefined, targetFor });
    expect(await run()).toEqual({ done: 0, failed: 0, skipped: 'not configured' });
    expect(info).toHaveBeenCalledTimes(1);
    expect(targetFor).not.toHaveBeenCalled();
    info.mockRestore();
  });

  it('fails on an unusable secret and logs it without the content', async () => {
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const raw = JSON.stringify({ developer_token: 'dev-token-value', client_id: '' });
    const run = blocklistPushHandler({ credentials: async () => parseGoogleAdsSecret(raw), targetFor: jest.fn() });
    await expect(run()).rejects.toBeInstanceOf(GoogleAdsSecretError);
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(error.mock.calls)).not.toContain('dev-token-value');
    expect(JSON.stringify(error.mock.calls)).toContain('client_id');
    error.mockRestore();
  });
});
