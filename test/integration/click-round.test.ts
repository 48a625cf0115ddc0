import { ENV, requireEnv } from '../../shared/config/env';
import { CAMPAIGN_SLOTS } from '../../shared/scoring/velocity';
import { GetCommand } from '../../shared/store/aws/dynamodb';
import { documentClient } from '../../shared/store/clients';
import { startTestStack, type TestStack } from './support';

/**
 * Issue 10, the click round over HTTP: an address's campaigns live in its own velocity item, in a bounded set
 * of slots (tried as a fraudster with only the public key would: one address, a new `campaignid` on every
 * click); the visitor's worst click is raised by the click counter, a FRAUD one on the request path.
 */
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
/** An AWS address: a click from there is SUSPICIOUS, with a headless browser FRAUD. */
const AWS_IP = '3.5.140.2';
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
        TableName: requireEnv(ENV.countersTableName),
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

describe('the counters table', () => {
  it("holds a click's address and /24 counters; the table holds its visitor and the click", async () => {
    const property = await stack.createProperty();
    const res = await stack.fetchJson<{ click_id: string }>('/v1/click', {
      body: { ip: '81.2.70.9', user_agent: CHROME, visitor_id: 'vis_split', gclid: 'split-1' },
      apiKey: property.secretKey,
    });
    expect(res.status).toBe(200);
    const get = async (table: string, pk: string, sk: string) =>
      (await documentClient.send(new GetCommand({ TableName: requireEnv(table), Key: { pk, sk } }))).Item;
    const address = `VEL#${property.id}#ip#81.2.70.9`;
    const subnet = `VEL#${property.id}#net#81.2.70.0/24`;
    expect(await get(ENV.countersTableName, address, 'VEL')).toMatchObject({ n: 1 });
    expect(await get(ENV.countersTableName, subnet, 'VEL')).toMatchObject({ n: 1 });
    expect(await get(ENV.tableName, address, 'VEL')).toBeUndefined();
    expect(await get(ENV.tableName, subnet, 'VEL')).toBeUndefined();
    expect(await get(ENV.tableName, `VIS#${property.id}#vis_split`, 'VIS')).toMatchObject({
      lastClickId: res.body.click_id,
    });
    expect(await get(ENV.tableName, `CLK#${res.body.click_id}`, 'CLK')).toBeDefined();
  });
});

describe("the visitor's worst click", () => {
  it('is FRAUD at once after a FRAUD click, whatever clean click follows; a SUSPICIOUS one counts within seconds', async () => {
    const property = await stack.createProperty();
    const click = (body: Record<string, unknown>) =>
      stack.fetchJson<Answer & { visitor_id: string }>('/v1/click', { apiKey: property.secretKey, body });
    const decision = async (visitorId: string) =>
      (await stack.fetchJson<{ label: string }>(`/v1/decision?visitorId=${visitorId}`, { apiKey: property.secretKey }))
        .body.label;

    const fraud = await click({ ip: AWS_IP, user_agent: HEADLESS, visitor_id: 'vis_worstfraud' });
    expect(fraud.body.status).toBe('fraud');
    const cover = await click({ ip: '81.2.69.202', user_agent: CHROME, visitor_id: 'vis_worstfraud' });
    expect(cover.body.status).toBe('clean');
    // No wait: the FRAUD click was the visitor's worst before its answer was sent.
    expect(await decision('vis_worstfraud')).toBe('FRAUD');

    const suspicious = await click({ ip: AWS_IP, user_agent: CHROME, visitor_id: 'vis_worstsusp' });
    expect(suspicious.body.status).toBe('suspicious');
    expect((await click({ ip: '81.2.69.203', user_agent: CHROME, visitor_id: 'vis_worstsusp' })).body.status).toBe(
      'clean',
    );
    // The click counter (a few seconds behind) makes the suspicious click the visitor's worst.
    await stack.waitFor(async () => ((await decision('vis_worstsusp')) === 'SUSPICIOUS' ? true : undefined), 30_000);
  });
});
