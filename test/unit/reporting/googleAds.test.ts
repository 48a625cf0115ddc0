import { MAX_IP_EXCLUSIONS_PER_CAMPAIGN, planExclusions, syncCampaign } from '../../../shared/googleAds/exclusions';
import { type AdsCustomer, GoogleAdsExclusionTarget } from '../../../shared/googleAds/googleAdsTarget';

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
  function fakeCustomer(rows: unknown[]) {
    const calls = { queries: [] as string[], created: [] as unknown[], removed: [] as string[] };
    const customer: AdsCustomer = {
      query: async <T>(gaql: string) => {
        calls.queries.push(gaql);
        return rows as T;
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
});
