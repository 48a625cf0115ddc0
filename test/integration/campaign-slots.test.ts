import { ENV, requireEnv } from '../../shared/config/env';
import { CAMPAIGN_SLOTS } from '../../shared/scoring/velocity';
import { GetCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { startTestStack, type TestStack } from './support';

/**
 * Issue 10: an address's campaigns live in its own velocity item, in a bounded set of slots. Tried as a
 * fraudster with only the public key would: one address, a new `campaignid` on every click.
 */
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
});

afterAll(async () => {
  await stack.stop();
});

interface Answer {
  status: string;
  reasons: { rule: string }[];
}

describe('a public-key caller spraying campaign values from one address', () => {
  it("cannot grow the address's item past its slots, and its clicks still score as rapid", async () => {
    const property = await stack.createProperty();
    const from = '81.2.69.201';
    const clicks = 40;
    const answers: Answer[] = [];
    for (let i = 0; i < clicks; i++) {
      const res = await stack.fetchJson<Answer>('/v1/click', {
        body: {
          tracking_key: property.publicKey,
          user_agent: CHROME,
          page_url: `https://shop.example/landing?campaignid=spray${i}&network=g`,
        },
        headers: { 'x-forwarded-for': from },
      });
      expect(res.status).toBe(200);
      answers.push(res.body);
    }
    const rules = (answer: Answer | undefined) => answer?.reasons.map((reason) => reason.rule) ?? [];
    // From the third click within the minute on, whatever the campaign.
    for (const answer of answers.slice(2)) expect(rules(answer)).toContain('rapid_clicks');
    // The campaigns past the slots share one window: it reaches the repeat-campaign threshold, never later.
    expect(rules(answers.at(-1))).toContain('repeat_campaign_click');
    expect(rules(answers[CAMPAIGN_SLOTS - 1])).not.toContain('repeat_campaign_click');

    const { Item = {} } = await documentClient.send(
      new GetCommand({
        TableName: requireEnv(ENV.tableName),
        Key: { pk: `VEL#${property.id}#ip#${from}`, sk: 'VEL' },
      }),
    );
    const campaignAttributes = Object.keys(Item).filter((name) => name.startsWith('ip_campaign_1d_'));
    // The day's set of slotted campaigns, their windows and one overflow window.
    expect(campaignAttributes).toHaveLength(1 + CAMPAIGN_SLOTS + 1);
    expect(Item[campaignAttributes.find((name) => name.endsWith('_overflow')) ?? '']).toBe(clicks - CAMPAIGN_SLOTS);
    expect(JSON.stringify(Item, (_, v) => (v instanceof Set ? [...v] : v)).length).toBeLessThan(1500);
  });
});
