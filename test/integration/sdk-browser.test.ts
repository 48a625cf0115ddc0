import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { ingestionDeps } from '../../shared/ingestion';
import { SDK_INTEGRITY, SDK_SCRIPT, SDK_VERSION } from '../../shared/sdk/script';
import type { StoredClick } from '../../shared/store/clicks';
import { closeQuietly, desktopSession, launchBrowser, mobileSession } from '../support/browser';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * The snippet in a real Chromium (from @sparticuz/chromium), as an advertiser deploys it: landing pages
 * on their own origin (http://localhost:<port>, with a Content-Security-Policy that lists the API) load
 * the versioned script from the API with its `integrity` hash, against the local stack with its SQS
 * beacon scorer. Verdicts are read from the stored click, found by the gclid the visit carried.
 */
let stack: TestStack;
let property: Credentials;
let browser: Browser;
let site: Server;
let siteUrl: string;
const deps = () => ingestionDeps();
let nextHost = 10;
/** A fresh home address per session (81.2.69.0/24 is an ordinary ISP range in the bundled intel). */
const homeIp = () => `81.2.69.${nextHost++}`;
const gclid = (name: string) => `Cj0KCQ-${name}-${Date.now().toString(36)}`;

interface PageOptions {
  /** `pending`: the tag starts with data-consent="pending". */
  readonly consent?: 'pending';
  /** connect-src without the API: the page's own policy blocks the snippet's requests. */
  readonly blockApi?: boolean;
}

const NONCE = 'landing-nonce';

function landingHtml(api: string, base: string, page: string, options: PageOptions): string {
  const next = page === 'landing' ? 2 : Number(page.split('/').pop()) + 1;
  const paragraphs = Array.from(
    { length: 40 },
    (_, i) => `<p>Section ${i + 1}. Trail shoes for wet rock, mud and long descents; sizes 36 to 48.</p>`,
  ).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Spring sale ${page}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script nonce="${NONCE}">
window.cspViolations = [];
window.sdkErrors = [];
document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
window.clicksieveConfig = { onError: (e) => window.sdkErrors.push(e) };
</script>
<script src="${api}/v1/sdk/clicksieve-${SDK_VERSION}.js" integrity="${SDK_INTEGRITY}" crossorigin="anonymous"
  data-key="${property.publicKey}" data-endpoint="${api}" data-debug="true"${options.consent ? ` data-consent="${options.consent}"` : ''}></script>
</head><body style="font: 18px/1.6 sans-serif; margin: 0 auto; max-width: 720px">
<h1>Spring sale</h1>${paragraphs}<p><a id="next" href="${base}/page/${next}">Next page</a></p></body></html>`;
}

/**
 * The advertiser's site. `/s/<port>/landing` and `/s/<port>/page/<n>` are pages whose tag points at the
 * API through this session's edge on 127.0.0.1:<port>: a cross-origin API, as on a real site.
 */
function startSite(): Promise<string> {
  site = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/s\/(\d+)\/(landing|page\/\d)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const api = `http://127.0.0.1:${match[1]}`;
    const options: PageOptions = {
      ...(url.searchParams.get('consent') === 'pending' ? { consent: 'pending' as const } : {}),
      blockApi: url.searchParams.get('csp') === 'strict',
    };
    const connect = options.blockApi ? "'self'" : api;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'self'; script-src 'nonce-${NONCE}' ${api}; connect-src ${connect}; style-src 'unsafe-inline'`,
      'cache-control': 'no-store',
    });
    res.end(landingHtml(api, `/s/${match[1]}`, match[2]!, options));
  });
  return new Promise((resolve) =>
    site.listen(0, '127.0.0.1', () => resolve(`http://localhost:${(site.address() as AddressInfo).port}`)),
  );
}

/**
 * One visitor: a browser context and its edge, a proxy to the local stack that adds the visitor's
 * address as X-Forwarded-For (the local stack then takes it as the source address, as API Gateway
 * reports it), for every request the page makes: fetch, keepalive and sendBeacon alike.
 */
interface Session {
  readonly context: BrowserContext;
  /** The API as this visitor's pages reach it. */
  readonly api: string;
  /** Where this visitor's pages live: `${base}/landing`, `${base}/page/2`… */
  readonly base: string;
  /** The API requests the visitor made (the script itself included), as `METHOD /path`. */
  readonly requests: string[];
  /** Bodies of the beacons the visitor sent. */
  readonly beacons: Record<string, unknown>[];
  close(): Promise<void>;
}

/** `clickDelayMs`: the edge holds POST /v1/click this long (a slow network), so beacons overtake the click. */
async function openSession(options: BrowserContextOptions, ip: string, clickDelayMs = 0): Promise<Session> {
  const requests: string[] = [];
  const beacons: Record<string, unknown>[] = [];
  const edge = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value);
    }
    headers.set('x-forwarded-for', ip);
    const path = new URL(req.url ?? '/', 'http://edge').pathname;
    if (req.method !== 'OPTIONS') requests.push(`${req.method} ${path}`);
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
    if (path === '/v1/click/beacon' && body) beacons.push(JSON.parse(body.toString('utf8')));
    if (path === '/v1/click' && req.method === 'POST') await sleep(clickDelayMs);
    const answer = await fetch(`${stack.url}${req.url}`, { method: req.method ?? 'GET', headers, body });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (name !== 'content-encoding' && name !== 'content-length' && name !== 'transfer-encoding') out[name] = value;
    });
    res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
  });
  const port = await new Promise<number>((resolve) =>
    edge.listen(0, '127.0.0.1', () => resolve((edge.address() as AddressInfo).port)),
  );
  const context = await browser.newContext(options);
  return {
    context,
    api: `http://127.0.0.1:${port}`,
    base: `${siteUrl}/s/${port}`,
    requests,
    beacons,
    close: async () => {
      await closeQuietly(context);
      edge.closeAllConnections();
      await new Promise((resolve) => edge.close(resolve));
    },
  };
}

async function storedClick(id: string): Promise<StoredClick | undefined> {
  const clickId = await deps().clickStores.clicks.findClickByGclid(property.id, id, Date.now());
  return clickId === undefined ? undefined : deps().clickStores.clicks.getClick(clickId);
}

/** The click once the beacon scorer has applied a beacon with at least this dwell. */
function judged(id: string, minDwell = 0, timeoutMs = 20_000): Promise<StoredClick> {
  return stack.waitFor(
    async () => {
      const click = await storedClick(id);
      const dwell = click?.signals?.observed?.timeOnPageSeconds;
      return dwell !== undefined && dwell >= minDwell ? click : undefined;
    },
    timeoutMs,
    250,
  );
}

const rulesOf = (click: StoredClick) => click.reasons.map((reason) => reason.rule);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function verdictOnPage(page: Page): Promise<{ click_id: string; status: string } | null> {
  return page.evaluate(() => (window as unknown as { clicksieve: { ready: Promise<never> } }).clicksieve.ready);
}

/** A hand on a mouse: curved (quadratic Bézier) moves with uneven speed, then a wheel scroll. */
async function readLikeAHuman(page: Page, rounds: number, seed: number): Promise<void> {
  let x = 200 + (seed % 300);
  let y = 200;
  for (let round = 0; round < rounds; round++) {
    const toX = 150 + ((seed * 7 + round * 211) % 1000);
    const toY = 120 + ((seed * 3 + round * 137) % 500);
    const cx = (x + toX) / 2 + (round % 2 === 0 ? 1 : -1) * (80 + ((seed + round * 53) % 120));
    const cy = (y + toY) / 2 - (60 + ((seed * 5 + round) % 90));
    const steps = 18 + ((seed + round) % 12);
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      const px = (1 - t) ** 2 * x + 2 * (1 - t) * t * cx + t * t * toX;
      const py = (1 - t) ** 2 * y + 2 * (1 - t) * t * cy + t * t * toY;
      await page.mouse.move(px, py);
      await sleep(8 + ((i * 13 + round) % 20));
    }
    x = toX;
    y = toY;
    await page.mouse.wheel(0, 220 + ((seed + round * 31) % 180));
    await sleep(350 + ((seed * round) % 300));
  }
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } }), launchBrowser()]);
  property = await stack.createProperty({ name: 'browser landing pages' });
  siteUrl = await startSite();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await stack?.stop();
});

describe('the snippet in Chromium', () => {
  it('judges a desktop reader (10 s, curved mouse, wheel) and a phone (taps, swipes) CLEAN on behaviour', async () => {
    const desktopGclid = gclid('desk');
    const phoneGclid = gclid('phone');
    const desktop = await openSession(desktopSession(), homeIp());
    const phone = await openSession(mobileSession(), homeIp());
    try {
      const readOnDesktop = (async () => {
        const page = await desktop.context.newPage();
        await page.goto(`${desktop.base}/landing?gclid=${desktopGclid}&campaignid=42`);
        const verdict = await verdictOnPage(page);
        expect(verdict).toMatchObject({ status: 'clean' });
        const started = Date.now();
        await readLikeAHuman(page, 10, 17);
        await sleep(Math.max(0, 10_500 - (Date.now() - started)));
        await page.goto('about:blank');
      })();
      const readOnPhone = (async () => {
        const page = await phone.context.newPage();
        await page.goto(`${phone.base}/landing?gclid=${phoneGclid}`);
        expect(await verdictOnPage(page)).toMatchObject({ status: 'clean' });
        const cdp = await phone.context.newCDPSession(page);
        for (let swipe = 0; swipe < 4; swipe++) {
          await page.touchscreen.tap(120 + swipe * 40, 300 + swipe * 25);
          await sleep(300);
          // A thumb: touch down low, drag up with a slight drift, lift (the page scrolls as on a phone).
          const x = 200 + swipe * 15;
          await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: 720 }] });
          for (let y = 700; y >= 260; y -= 20 + swipe * 3) {
            await cdp.send('Input.dispatchTouchEvent', {
              type: 'touchMove',
              touchPoints: [{ x: x + (720 - y) / 25, y }],
            });
            await sleep(16);
          }
          await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
          await sleep(700);
        }
        await page.goto('about:blank');
      })();
      await Promise.all([readOnDesktop, readOnPhone]);

      const [onDesktop, onPhone] = await Promise.all([judged(desktopGclid, 10), judged(phoneGclid, 3)]);
      expect(onDesktop.current.label).toBe('CLEAN');
      expect(rulesOf(onDesktop)).toEqual([]);
      expect(onDesktop.signals?.observed?.mouseEntropy).toBeGreaterThan(1000);
      expect(onDesktop.signals?.observed?.scrollDepth).toBeGreaterThan(10);
      expect(onPhone.current.label).toBe('CLEAN');
      expect(rulesOf(onPhone)).toEqual([]);
      expect(onPhone.signals?.observed).toMatchObject({ touch: true });
      expect(onPhone.signals?.observed?.scrollDepth).toBeGreaterThan(10);
    } finally {
      await Promise.all([desktop.close(), phone.close()]);
    }
  }, 60_000);

  it('records one paid click for a visitor who reloads, goes back and forth and reads five pages', async () => {
    const id = gclid('reader');
    const session = await openSession(desktopSession(), homeIp());
    const { requests } = session;
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?gclid=${id}`);
      const first = await verdictOnPage(page);
      await readLikeAHuman(page, 2, 3);
      await page.reload();
      expect(await verdictOnPage(page)).toBeNull();
      for (let n = 2; n <= 5; n++) {
        await page.click('#next');
        await page.waitForURL(`${session.base}/page/${n}`);
        await readLikeAHuman(page, 2, n);
        if (n === 3) {
          await page.goBack();
          await page.goForward();
        }
      }
      await page.goto('about:blank');
      const click = await judged(id, 8);
      expect(click.clickId).toBe(first?.click_id);
      expect(requests.filter((r) => r === 'POST /v1/click')).toHaveLength(1);
      expect(click.current.label).toBe('CLEAN');
      expect(rulesOf(click)).not.toEqual(expect.arrayContaining(['rapid_clicks']));
      expect(rulesOf(click)).not.toContain('duplicate_gclid');
      const visitor = await deps().store.getVisitor(property.id, click.visitorId, Date.now());
      expect(visitor?.clicks).toBe(1);
      // Beacons on every hide carry the whole visit's running totals.
      expect(requests.filter((r) => r === 'POST /v1/click/beacon').length).toBeGreaterThanOrEqual(6);
    } finally {
      await session.close();
    }
  }, 60_000);

  it('judges a bot that leaves within 0.5 s, before the click answer arrived, on its behaviour', async () => {
    const id = gclid('fast');
    const session = await openSession(desktopSession(), homeIp(), 1500);
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?gclid=${id}`, { waitUntil: 'domcontentloaded' });
      await sleep(150);
      await page.goto('about:blank');
      // sendBeacon on pagehide is delivered after the navigation; on a loaded machine it may arrive a little later.
      for (let waited = 0; session.beacons.length === 0 && waited < 5_000; waited += 50) await sleep(50);
      // The beacon left before any answer: it names the click by its gclid, and the server joins them.
      expect(session.beacons[0]).toMatchObject({ gclid: id, honeypot: false });
      expect(session.beacons[0]).not.toHaveProperty('click_id');
      const click = await judged(id);
      expect(click.signals?.observed?.timeOnPageSeconds).toBeLessThan(0.5);
      expect(rulesOf(click)).toEqual(expect.arrayContaining(['short_dwell', 'no_pointer']));
      expect(click.current.score).toBeGreaterThanOrEqual(40);
    } finally {
      await session.close();
    }
  }, 60_000);

  it('makes a honeypot click FRAUD, and a later forged beacon cannot lower it', async () => {
    const id = gclid('trap');
    const ip = homeIp();
    const session = await openSession(desktopSession(), ip);
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?gclid=${id}`);
      const verdict = await verdictOnPage(page);
      // The link has no text: copy-all and reader modes show nothing of it.
      expect(await page.evaluate(() => document.querySelector('a[data-cs-hp]')?.textContent)).toBe('');
      await page.evaluate(() => (document.querySelector('a[data-cs-hp]') as HTMLAnchorElement).click());
      const trapped = await stack.waitFor(async () => {
        const click = await storedClick(id);
        return click?.current.label === 'FRAUD' ? click : undefined;
      }, 20_000);
      expect(rulesOf(trapped)).toContain('honeypot');

      const forged = await stack.fetch('/v1/click/beacon', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-forwarded-for': ip },
        body: JSON.stringify({
          tracking_key: property.publicKey,
          click_id: verdict?.click_id,
          time_on_page: 900,
          scroll_depth: 100,
          mouse_entropy: 2900,
          honeypot: false,
          touch: true,
        }),
      });
      expect(forged.status).toBe(204);
      const after = await stack.waitFor(async () => {
        const click = await storedClick(id);
        return click && click.beaconAt !== trapped.beaconAt ? click : undefined;
      }, 20_000);
      expect(after.current).toMatchObject({ label: 'FRAUD', score: trapped.current.score });
      expect(rulesOf(after)).toContain('honeypot');
    } finally {
      await session.close();
    }
  }, 60_000);

  it('puts an address that opens the honeypot address directly on the blocklist', async () => {
    const ip = homeIp();
    const session = await openSession(desktopSession(), ip);
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?cs_hp=1`);
      const listed = await stack.waitFor(async () => {
        const res = await stack.fetchJson(`/v1/property/${property.id}/blocklist`, { apiKey: property.secretKey });
        return (res.body.blocklist as { ip: string; reason: string }[]).find((entry) => entry.ip === ip);
      }, 20_000);
      expect(listed.reason).toBe('honeypot');
    } finally {
      await session.close();
    }
  }, 60_000);

  it('stores and sends nothing while consent is pending, and records the click once it is given', async () => {
    const id = gclid('consent');
    const session = await openSession(desktopSession(), homeIp());
    const { requests } = session;
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?gclid=${id}&consent=pending`);
      await readLikeAHuman(page, 2, 5);
      await page.reload();
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      expect(requests.filter((r) => !r.startsWith('GET /v1/sdk/'))).toEqual([]);
      expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
      expect(await storedClick(id)).toBeUndefined();

      const verdict = await page.evaluate(() => {
        const cs = (window as unknown as { clicksieve: ((c: string, v: boolean) => void) & { ready: Promise<never> } })
          .clicksieve;
        cs('consent', true);
        return cs.ready;
      });
      expect(verdict).toMatchObject({ status: 'clean', click_id: expect.stringMatching(/^clk_/) });
      expect(requests).toContain('POST /v1/click');
    } finally {
      await session.close();
    }
  }, 60_000);

  it('loads the served script under a CSP that lists the API, retries a 503, and reports a blocked API', async () => {
    const id = gclid('csp');
    const session = await openSession(desktopSession(), homeIp());
    const { requests } = session;
    let failed = 0;
    await session.context.route(`${session.api}/v1/click`, async (route) => {
      if (route.request().method() === 'POST' && failed++ === 0) {
        await route.fulfill({
          status: 503,
          headers: { 'access-control-allow-origin': '*', 'content-type': 'application/json' },
          body: '{"error":"busy","code":"SERVER_ERROR"}',
        });
      } else await route.continue();
    });
    const logs: string[] = [];
    session.context.on('console', (message) => logs.push(message.text()));
    try {
      const page = await session.context.newPage();
      await page.goto(`${session.base}/landing?gclid=${id}`);
      expect(
        await page.evaluate(() => (window as unknown as { clicksieve: { version: string } }).clicksieve.version),
      ).toBe(SDK_VERSION);
      expect(await verdictOnPage(page)).toMatchObject({ status: 'clean' });
      // The first attempt was answered 503 by the route above, the retry reached the API.
      expect(failed).toBe(2);
      expect(requests.filter((r) => r === 'POST /v1/click')).toHaveLength(1);
      expect(logs.some((line) => line.includes('[clicksieve] retrying /v1/click'))).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);

      await page.goto(`${session.base}/landing?gclid=${gclid('blocked')}&csp=strict`);
      expect(await verdictOnPage(page)).toBeNull();
      const errors = await page.evaluate(() => (window as unknown as { sdkErrors: { reason: string }[] }).sdkErrors);
      expect(errors).toEqual([expect.objectContaining({ reason: 'network' })]);
      const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
      expect(violations.some((v) => v.startsWith('connect-src'))).toBe(true);
    } finally {
      await session.close();
    }
  }, 60_000);
});

describe('GET /v1/sdk/{file}', () => {
  it('serves the current and the pinned version with their cache rules, and 404s any other', async () => {
    const current = await stack.fetch('/v1/sdk/clicksieve.js');
    expect(current.status).toBe(200);
    expect(current.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(current.headers.get('cache-control')).toBe('public, max-age=300');
    expect(current.headers.get('access-control-allow-origin')).toBe('*');
    expect(await current.text()).toBe(SDK_SCRIPT);
    const etag = current.headers.get('etag')!;
    const revalidated = await stack.fetch('/v1/sdk/clicksieve.js', { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);

    const pinned = await stack.fetch(`/v1/sdk/clicksieve-${SDK_VERSION}.js`);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await pinned.text()).toBe(SDK_SCRIPT);

    const other = await stack.fetchJson('/v1/sdk/clicksieve-0.0.1.js');
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'NOT_FOUND' });
    const traversal = await stack.fetchJson('/v1/sdk/..%2Fpackage.json');
    expect([400, 404]).toContain(traversal.status);
  });
});
