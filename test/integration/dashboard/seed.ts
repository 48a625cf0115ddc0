import type { Credentials, TestStack } from '../support';

export const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
/** An AWS address: hosting, scored as a datacenter click. */
export const DATACENTER_IP = '3.5.140.2';

export interface SeededTraffic {
  readonly property: Credentials;
  readonly cleanClickIds: string[];
  readonly fraudClickIds: string[];
  readonly fraudGclid: string;
  readonly homeIps: string[];
  /** Clean clicks with a trusted (webhook) conversion, the first `conversions` of `cleanClickIds`. */
  readonly convertedClickIds: string[];
}

/**
 * Known traffic for the dashboard: `clean` clicks from distinct home addresses (81.2.69.0/24, an ordinary
 * ISP range in the bundled intel) and `fraud` headless clicks from one datacenter address, the first
 * carrying a gclid; the first `conversions` clean clicks convert (the webhook, by click id). Needs a stack
 * started with CLICKSIEVE_TRUST_PROXY=1.
 */
export async function seedTraffic(
  stack: TestStack,
  options: { clean?: number; fraud?: number; averageCpc?: number; firstHost?: number; conversions?: number } = {},
): Promise<SeededTraffic> {
  const property = await stack.createProperty({ name: 'Dashboard shop', currency: 'EUR' });
  const cleanCount = options.clean ?? 6;
  const fraudCount = options.fraud ?? 3;
  const firstHost = options.firstHost ?? 10;
  if (options.averageCpc !== undefined) {
    const put = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
      method: 'PUT',
      apiKey: property.secretKey,
      body: { averageCpc: options.averageCpc },
    });
    if (put.status !== 200) throw new Error(`PUT config answered ${put.status}`);
  }
  const click = async (body: Record<string, unknown>, from: string) => {
    const res = await stack.fetchJson('/v1/click', {
      body: { tracking_key: property.publicKey, ...body },
      headers: { 'x-forwarded-for': from },
    });
    if (res.status !== 200) throw new Error(`POST /v1/click answered ${res.status}`);
    return res.body as { click_id: string; status: string };
  };
  const homeIps: string[] = [];
  const cleanClickIds: string[] = [];
  for (let i = 0; i < cleanCount; i++) {
    const ip = `81.2.69.${firstHost + i}`;
    homeIps.push(ip);
    const res = await click(
      {
        user_agent: CHROME,
        gclid: `clean-${property.id.slice(-6)}-${i}`,
        page_url: 'https://shop.example/landing?campaignid=4242&network=g&keyword=shoes',
      },
      ip,
    );
    cleanClickIds.push(res.click_id);
  }
  const fraudGclid = `fraud-${property.id.slice(-6)}`;
  const fraudClickIds: string[] = [];
  for (let i = 0; i < fraudCount; i++) {
    const res = await click(
      {
        user_agent: HEADLESS,
        ...(i === 0 ? { gclid: fraudGclid } : {}),
        page_url: 'https://shop.example/landing?campaignid=4242&network=d&placement=spammy.example',
      },
      DATACENTER_IP,
    );
    fraudClickIds.push(res.click_id);
  }
  // Stats, the time series and the blocklist are counted off the request path (the click counter):
  // wait until every seeded click is counted, so what the dashboard shows is final.
  const seeded = cleanCount + fraudCount;
  await stack.waitFor(async () => {
    const stats = await stack.fetchJson(`/v1/property/${property.id}/stats?range=today`, {
      apiKey: property.secretKey,
    });
    return stats.status === 200 && stats.body.totalDecisions === seeded;
  }, 60_000);
  const convertedClickIds = cleanClickIds.slice(0, options.conversions ?? 0);
  for (const clickId of convertedClickIds) {
    const res = await stack.fetchJson('/v1/webhook/conversion', {
      body: { click_id: clickId, value: 49.9 },
      headers: { authorization: `Bearer ${property.webhookSecret}` },
    });
    if (res.status !== 200) throw new Error(`POST /v1/webhook/conversion answered ${res.status}`);
  }
  if (convertedClickIds.length > 0) {
    await stack.waitFor(async () => {
      const calibration = await stack.fetchJson(`/v1/property/${property.id}/calibration`, {
        apiKey: property.secretKey,
      });
      return calibration.status === 200 && calibration.body.total.conversions === convertedClickIds.length;
    }, 60_000);
  }
  return { property, cleanClickIds, fraudClickIds, fraudGclid, homeIps, convertedClickIds };
}
