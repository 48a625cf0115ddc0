import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DOMWindow } from 'jsdom';
import { ENV } from '../../shared/config/env';
import { DynamoClickStore } from '../../shared/store';
import { documentClient } from '../../shared/store/clients';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * The landing-page snippet (sdk/clicksieve.js) as a browser runs it: a jsdom page loads its source through
 * the README's script tag, with Node's fetch, against the local stack; its beacon goes through SQS to
 * the beacon scorer.
 *
 * jsdom runs in a worker thread: its dependencies are ES modules, which Node 20 `require()`s but jest's
 * module loader does not. Steps run in the page with `page.evaluate(fn, arg)` (fn's source is sent, so
 * it may use only its arguments).
 */
const SNIPPET = readFileSync(join(__dirname, '../../sdk/clicksieve.js'), 'utf8');
const SNIPPET_URL = 'https://cdn.example/clicksieve.js';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const LANDING = 'https://shop.example/landing';
const REFERRER = 'https://www.google.com/';
/** Page height the layout-less jsdom is told it has, so scroll depth is measured against something. */
const PAGE_HEIGHT = 3000;
let nextHost = 1;
/** A fresh home address per visit (81.2.69.0/24 is an ordinary ISP range in the bundled intel). */
const homeIp = () => `81.2.69.${nextHost++}`;

interface PageOptions {
  readonly jsdom: string;
  readonly snippet: string;
  readonly snippetUrl: string;
  readonly html: string;
  readonly url: string;
  readonly referrer: string;
  readonly userAgent: string;
  readonly ip: string;
  readonly pageHeight: number;
}

/**
 * The page, in the worker. fetch is Node's, sending the visitor's address as X-Forwarded-For (the stack
 * trusts it) and recording what POST /v1/click answered; navigator.sendBeacon POSTs its data with the
 * Blob's own content type, as a browser does. jsdom has no layout: the page gets a height, and
 * scrollTo moves the viewport and fires `scroll`.
 */
const PAGE_WORKER = `
const { parentPort, workerData: o } = require('node:worker_threads');
const { JSDOM, VirtualConsole, requestInterceptor } = require(o.jsdom);
const origin = new URL(o.url).origin;
const record = { clickAnswers: [], clickCors: [], scriptErrors: [] };
const beacons = [];
const virtualConsole = new VirtualConsole();
virtualConsole.on('jsdomError', (error) => record.scriptErrors.push(String(error.stack || error)));
async function pageFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('x-forwarded-for', o.ip);
  headers.set('origin', origin);
  const response = await fetch(input, { ...init, headers });
  if (String(input).endsWith('/v1/click')) {
    record.clickAnswers.push(await response.clone().json());
    record.clickCors.push(response.headers.get('access-control-allow-origin'));
  }
  return response;
}
function sendBeacon(url, data) {
  const text = typeof data === 'string' ? Promise.resolve(data) : data ? data.text() : Promise.resolve('');
  const contentType = typeof data === 'string' ? 'text/plain;charset=UTF-8' : (data && data.type) || '';
  beacons.push(text.then(async (body) => {
    const headers = { 'x-forwarded-for': o.ip, origin };
    if (contentType) headers['content-type'] = contentType;
    const response = await fetch(url, { method: 'POST', headers, body });
    return { contentType, body: JSON.parse(body), status: response.status };
  }));
  return true;
}
const { window } = new JSDOM(o.html, {
  url: o.url,
  referrer: o.referrer,
  runScripts: 'dangerously',
  resources: {
    userAgent: o.userAgent,
    // The snippet from its "CDN"; the page loads nothing else.
    interceptors: [requestInterceptor((request) =>
      request.url === o.snippetUrl
        ? new Response(o.snippet, { headers: { 'content-type': 'text/javascript' } })
        : new Response('', { status: 404 }),
    )],
  },
  virtualConsole,
  beforeParse(window) {
    window.fetch = pageFetch;
    Object.defineProperty(window.navigator, 'sendBeacon', { configurable: true, value: sendBeacon });
  },
});
let scrollTop = 0;
Object.defineProperty(window.document.documentElement, 'scrollHeight', { configurable: true, get: () => o.pageHeight });
Object.defineProperty(window, 'pageYOffset', { configurable: true, get: () => scrollTop });
window.scrollTo = (_x, y) => {
  scrollTop = y;
  window.dispatchEvent(new window.Event('scroll'));
};
const loaded = new Promise((resolve) => window.addEventListener('load', resolve));
parentPort.on('message', async ({ id, kind, source, arg }) => {
  try {
    await loaded;
    let value;
    if (kind === 'evaluate') value = await (0, eval)('(' + source + ')')(window, arg);
    else if (kind === 'beacons') value = await Promise.all(beacons);
    else value = record;
    parentPort.postMessage({ id, ok: true, value });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: String(error && error.stack || error) });
  }
});
`;

interface ClickVerdict {
  readonly status: string;
  readonly score: number;
  readonly action: string;
  readonly click_id: string;
  readonly visitor_id: string;
  readonly reasons: readonly { rule: string }[];
}

interface ClicksieveApi {
  readonly ready: Promise<ClickVerdict | null>;
  clickId(): string | null;
  flush(): boolean;
}

type PageWindow = DOMWindow & { readonly clicksieve: ClicksieveApi };

interface SentBeacon {
  readonly contentType: string;
  readonly body: Record<string, unknown>;
  readonly status: number;
}

interface PageRecord {
  /** Bodies POST /v1/click answered, as the page's fetch got them. */
  readonly clickAnswers: unknown[];
  readonly clickCors: (string | null)[];
  /** Errors jsdom reported (uncaught script errors, unimplemented features). */
  readonly scriptErrors: string[];
}

interface Page {
  evaluate<A, R>(step: (window: PageWindow, arg: A) => R, arg?: A): Promise<Awaited<R>>;
  /** Beacons handed to navigator.sendBeacon, once each has been answered. */
  beacons(): Promise<SentBeacon[]>;
  record(): Promise<PageRecord>;
  close(): Promise<void>;
}

/** Opens the landing page with the snippet's tag as the README gives it; steps run once the page has loaded. */
async function openPage(landingUrl: string, ip: string, pageHeight = PAGE_HEIGHT): Promise<Page> {
  const html = `<!doctype html><html><head><title>Spring sale</title>
<script src="${SNIPPET_URL}" data-key="${property.publicKey}" data-endpoint="${stack.url}/"></script>
</head><body><main><h1>Spring sale</h1><p>Running shoes, 30% off.</p></main></body></html>`;
  const workerData: PageOptions = {
    jsdom: require.resolve('jsdom'),
    snippet: SNIPPET,
    snippetUrl: SNIPPET_URL,
    html,
    url: landingUrl,
    referrer: REFERRER,
    userAgent: CHROME,
    ip,
    pageHeight,
  };
  const worker = new Worker(PAGE_WORKER, { eval: true, workerData });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  worker.on('message', ({ id, ok, value, error }: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const call = pending.get(id);
    pending.delete(id);
    if (ok) call?.resolve(value);
    else call?.reject(new Error(`in the page: ${error}`));
  });
  worker.on('error', (error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  });
  const send = <T>(message: { kind: string; source?: string; arg?: unknown }) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, ...message });
    });
  return {
    evaluate: (step, arg) => send({ kind: 'evaluate', source: step.toString(), arg }),
    beacons: () => send({ kind: 'beacons' }),
    record: () => send({ kind: 'record' }),
    close: async () => {
      await worker.terminate();
    },
  };
}

let stack: TestStack;
let property: Credentials;

beforeAll(async () => {
  // The visitor's address reaches the functions as X-Forwarded-For (set by the page's fetch).
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1' } });
  property = await stack.createProperty();
});

afterAll(async () => {
  await stack.stop();
});

const botVerdict = (token: string) =>
  stack.fetchJson(`/v1/bot/verdict?click_token=${encodeURIComponent(token)}`, {
    headers: { 'x-app-key': property.publicKey, 'x-app-secret': property.secretKey },
  });

const decision = (visitorId: string) =>
  stack.fetchJson(`/v1/decision?visitorId=${visitorId}`, { apiKey: property.secretKey });

/** The click as the store reads it (the item leaves out what it can derive). */
const storedClick = (clickId: string) =>
  new DynamoClickStore(documentClient, process.env[ENV.tableName] as string).getClick(clickId);

async function issueToken(campaign: string): Promise<string> {
  const issued = await stack.fetchJson('/v1/click-tokens', {
    apiKey: property.secretKey,
    body: { provider: 'sdk-e2e', campaign, ttl_seconds: 3600 },
  });
  expect(issued.status).toBe(201);
  return issued.body.click_token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A human's pointer: short strokes turning by about the golden angle, so every direction comes up. */
const movePointer = (window: PageWindow, moves: number) => {
  let x = 400;
  let y = 300;
  for (let i = 0; i < moves; i++) {
    x += Math.round(Math.cos(i * 2.4) * 12);
    y += Math.round(Math.sin(i * 2.4) * 12);
    window.document.body.dispatchEvent(new window.MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
  }
};

const landingUrl = (gclid: string, token: string) =>
  `${LANDING}?gclid=${gclid}&campaignid=123&keyword=running+shoes&click_token=${encodeURIComponent(token)}`;

const rules = (reasons: readonly { rule: string }[] | undefined) => (reasons ?? []).map((reason) => reason.rule);

describe('sdk/clicksieve.js in a page', () => {
  let page: Page | undefined;

  afterEach(async () => {
    await page?.close();
    page = undefined;
  });

  it("scores the click on load, then a human visit's beacon completes the verdict through SQS", async () => {
    const token = await issueToken('123');
    const gclid = `sdk-human-${randomBytes(4).toString('hex')}`;
    const ip = homeIp();
    page = await openPage(landingUrl(gclid, token), ip);

    const verdict = (await page.evaluate((window) => window.clicksieve.ready))!;
    const landedAt = Date.now();
    expect(verdict).toMatchObject({
      status: 'clean',
      action: 'allow',
      click_id: expect.stringMatching(/^clk_/),
      visitor_id: expect.stringMatching(/^vis_/),
    });
    const { clickAnswers, clickCors } = await page.record();
    expect(clickAnswers).toEqual([verdict]);
    expect(clickCors).toEqual(['*']);
    expect(
      await page.evaluate((window) => [window.clicksieve.clickId(), window.localStorage.getItem('clicksieve_vid')]),
    ).toEqual([verdict.click_id, verdict.visitor_id]);

    const stored = await storedClick(verdict.click_id);
    expect(stored).toMatchObject({
      propertyId: property.id,
      visitorId: verdict.visitor_id,
      ip,
      gclid,
      userAgent: CHROME,
      referrer: REFERRER,
      pageUrl: landingUrl(gclid, token),
      valueTrack: { campaignid: '123', keyword: 'running shoes' },
      tokenProvider: 'sdk-e2e',
    });
    expect(stored?.beaconAt).toBeUndefined();
    const before = await botVerdict(token);
    expect(before.status).toBe(200);
    expect(before.body.data).toMatchObject({ is_bot: false, consistency: { ok: true }, degraded: true });

    await page.evaluate((window) => window.scrollTo(0, 900));
    await page.evaluate(movePointer, 40);
    await page.evaluate((window) =>
      window.scrollTo(0, window.document.documentElement.scrollHeight - window.innerHeight),
    );
    await page.evaluate(movePointer, 40);
    // Dwell: long enough not to count as a short visit (3 s).
    await sleep(landedAt + 3_300 - Date.now());
    await page.evaluate((window) => {
      window.dispatchEvent(new window.Event('pagehide'));
      window.document.dispatchEvent(new window.Event('visibilitychange'));
    });

    const beacons = await page.beacons();
    expect(beacons).toHaveLength(1);
    expect(beacons[0]).toMatchObject({
      status: 204,
      contentType: 'text/plain',
      body: {
        tracking_key: property.publicKey,
        click_id: verdict.click_id,
        scroll_depth: 100,
        honeypot: false,
        touch: false,
      },
    });
    expect(beacons[0]!.body.time_on_page).toBeGreaterThanOrEqual(3);
    expect(beacons[0]!.body.mouse_entropy).toBeGreaterThan(2000);

    const settled = await stack.waitFor(async () => {
      const answer = await botVerdict(token);
      return answer.body.data?.degraded === false ? answer.body.data : undefined;
    }, 20_000);
    expect(settled).toMatchObject({ is_bot: false, level: 'low', consistency: { ok: true, token_uses: 1 } });
    const rescored = await storedClick(verdict.click_id);
    expect(rescored?.beaconAt).toEqual(expect.any(Number));
    for (const rule of ['short_dwell', 'no_scroll', 'no_pointer', 'honeypot']) {
      expect(rules(rescored?.reasons)).not.toContain(rule);
    }
    const visitor = await decision(verdict.visitor_id);
    expect(visitor.status).toBe(200);
    expect(visitor.body).toMatchObject({ label: 'CLEAN', action: 'ALLOW' });
    expect((await page.record()).scriptErrors).toEqual([]);
  });

  it('turns the visitor into FRAUD once automation follows the honeypot link', async () => {
    const token = await issueToken('123');
    page = await openPage(landingUrl(`sdk-bot-${randomBytes(4).toString('hex')}`, token), homeIp());
    const verdict = (await page.evaluate((window) => window.clicksieve.ready))!;
    expect(verdict).toMatchObject({ status: 'clean', click_id: expect.stringMatching(/^clk_/) });

    const followed = await page.evaluate((window) => {
      const honeypot = window.document.querySelector<HTMLAnchorElement>('a[href*="cs_hp=1"]');
      if (!honeypot) return undefined;
      honeypot.click();
      // The beacon went with the honeypot click; leaving sends the running totals again, honeypot included.
      window.dispatchEvent(new window.Event('pagehide'));
      return {
        hidden: honeypot.getAttribute('aria-hidden'),
        text: honeypot.textContent,
        flushedAgain: window.clicksieve.flush(),
      };
    });
    expect(followed).toEqual({ hidden: 'true', text: '', flushedAgain: true });

    const beacons = await page.beacons();
    expect(beacons.length).toBeGreaterThanOrEqual(2);
    for (const beacon of beacons) {
      expect(beacon).toMatchObject({ status: 204, body: { click_id: verdict.click_id, honeypot: true } });
    }

    const fraud = await stack.waitFor(async () => {
      const answer = await decision(verdict.visitor_id);
      return answer.body.label === 'FRAUD' ? answer.body : undefined;
    }, 20_000);
    expect(fraud.action).toBe('BLOCK');
    expect(rules(fraud.reasons)).toContain('honeypot');
    expect((await botVerdict(token)).body.data).toMatchObject({ is_bot: true, degraded: false });
    expect((await page.record()).scriptErrors).toEqual([]);
  });

  it('sends a beacon the API takes for a page that fits the window, from a tab left open for days', async () => {
    page = await openPage(`${LANDING}?gclid=sdk-short-${randomBytes(4).toString('hex')}`, homeIp(), 600);
    const verdict = (await page.evaluate((window) => window.clicksieve.ready))!;
    await page.evaluate(movePointer, 60);
    // Nothing to scroll; the visitor comes back to the tab two days later and closes it.
    await page.evaluate((window) => {
      const now = window.Date.now;
      window.Date.now = () => now() + 2 * 86_400_000;
      window.dispatchEvent(new window.Event('pagehide'));
    });

    const beacons = await page.beacons();
    expect(beacons).toEqual([
      expect.objectContaining({ status: 204, body: expect.objectContaining({ scroll_depth: 100 }) }),
    ]);
    const rescored = await stack.waitFor(async () => {
      const click = await storedClick(verdict.click_id);
      return click?.beaconAt ? click : undefined;
    }, 20_000);
    expect(rules(rescored.reasons)).not.toContain('no_scroll');
    expect(rules(rescored.reasons)).not.toContain('short_dwell');
  });
});
