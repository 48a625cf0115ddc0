import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type * as z from 'zod';
import { ENV } from '../../../shared/config/env';
import { MIN_RANKED_CLICKS } from '../../../shared/dashboard/trafficSources';
import { updateConfig } from '../../../shared/properties';
import type { TrafficSources } from '../../../shared/schemas/dashboard';
import {
  desktopSession,
  launchBrowser,
  mobileSession,
  PHONE,
  type WatchedPage,
  watchedPage,
} from '../../support/browser';
import { startTestStack, type TestStack } from '../support';
import { DATACENTER_IP, type SeededTraffic, seedTraffic } from './seed';

/**
 * The dashboard in a real Chromium against the local stack seeded with known traffic: what it shows is
 * what the API answers, no page logs an error, keys never reach a URL or storage, and screenshots of
 * every page at desktop and phone widths land in test-results/dashboard/ (look at them).
 */
const SCREENSHOTS = path.resolve(__dirname, '../../../test-results/dashboard');
const PAGES = ['overview', 'clicks', 'blocklist', 'settings'] as const;
/** The Google Ads customer the seeded property is linked to (the stack's recorded Google Ads transport). */
const CUSTOMER_ID = '4242424242';

let stack: TestStack;
let seeded: SeededTraffic;
let browser: Browser;
let desktop: WatchedPage;

/** en-US and UTC, so numbers and times are formatted the way the assertions below format them. */
const DESKTOP = desktopSession({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
const PHONE_SESSION = mobileSession({ viewport: PHONE, locale: 'en-US', timezoneId: 'UTC' });
const openPage = (session: typeof DESKTOP) => watchedPage(browser, session);

const en = {
  count: (n: number) => new Intl.NumberFormat('en-US').format(n),
  percent: (s: number) =>
    new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(s),
  money: (n: number, currency: string) => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n),
};

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startTestStack({ env: { CLICKSIEVE_TRUST_PROXY: '1', [ENV.googleAdsTransport]: 'recorded' } });
  // Enough clean clicks of one campaign for it to be ranked as a traffic source; two of them convert.
  seeded = await seedTraffic(stack, {
    clean: MIN_RANKED_CLICKS + 1,
    fraud: 3,
    averageCpc: 0.8,
    firstHost: 160,
    conversions: 2,
  });
  // The operator's link (admin only), through the domain; then one push, so the log has real rows.
  await updateConfig(
    seeded.property.id,
    { adAccount: { provider: 'google_ads', customerId: CUSTOMER_ID, enabled: true } },
    'admin',
  );
  // The blocklist fills as the queue scorers catch up: push once the plan has something to add.
  const planPath = `/v1/property/${seeded.property.id}/exclusions/plan`;
  for (let tries = 0; tries < 100; tries++) {
    const plan = await stack.fetchJson(planPath, { apiKey: seeded.property.secretKey });
    if (plan.body.add?.length) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const push = await stack.fetchJson(`/v1/property/${seeded.property.id}/exclusions/apply`, {
    method: 'POST',
    apiKey: seeded.property.secretKey,
  });
  if (push.status !== 200 || push.body.added < 1)
    throw new Error(`exclusions/apply answered ${push.status}: ${JSON.stringify(push.body)}`);
  browser = await launchBrowser();
  desktop = await openPage(DESKTOP);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  delete process.env[ENV.googleAdsTransport];
});

const api = <T>(route: string, apiKey = seeded.property.readonlyKey) =>
  stack.fetchJson<T>(route, { apiKey }).then((res) => res.body);

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${stack.url}/dashboard/`);
  await page.getByLabel('Dashboard key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('[data-page="overview"]');
}

async function show(page: Page, name: (typeof PAGES)[number]): Promise<void> {
  await page.click(`nav a[href="#${name}"]`);
  await page.waitForSelector(`[data-page="${name}"]`);
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();
const tableRows = async (page: Page, testId: string) =>
  page
    .locator(`[data-testid="${testId}"] tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((cell) => (cell.textContent ?? '').trim())),
    );

const unexpected = (watched: WatchedPage): string[] => watched.problems;

const enDateTime = (iso: string) =>
  `${new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso))} UTC`;
const where = (e: { level?: string; campaignId?: string }) =>
  e.level === undefined ? '—' : e.level === 'account' ? 'Account' : `Campaign ${e.campaignId}`;

interface ExclusionsAnswer {
  accountState: string;
  excluded: {
    value: string;
    level: string;
    campaignId?: string;
    kind?: string;
    by: string;
    reason?: string;
    addedAt?: string;
    runId?: string;
  }[];
  takenBack: string[];
  changeLog: {
    at: string;
    runId: string;
    action: string;
    value?: string;
    level?: string;
    campaignId?: string;
    reason: string;
    error?: string;
  }[];
}
const exclusionsPath = () => `/v1/property/${seeded.property.id}/exclusions`;

describe('dashboard in Chromium', () => {
  it('refuses a wrong key clearly and keeps the page signed out', async () => {
    const { page } = desktop;
    await page.goto(`${stack.url}/dashboard/`);
    await page.getByLabel('Dashboard key').fill(`rk_${'x'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, '#signin-error', /not accepted \(401 UNAUTHORIZED\)/);
    expect(await page.locator('#nav').isHidden()).toBe(true);
    await page.getByLabel('Dashboard key').fill('my password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page, '#signin-error', /read-only key \(rk_…\) or the secret key \(sk_…\)/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'signin-error-desktop.png'), fullPage: true });
    const problems = unexpected(desktop);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/status of 401 .*\/v1\/session\)$/);
    desktop.problems.length = 0;
  });

  it('overview shows exactly the API numbers', async () => {
    const { page } = desktop;
    await signIn(page, seeded.property.readonlyKey);
    const id = seeded.property.id;
    const series = await api<{
      currency: string;
      totals: Record<string, number>;
      days: Record<string, number | string | null>[];
    }>(`/v1/property/${id}/timeseries?range=30days`);
    const stats = await api<Record<string, number> & { topRules: { rule: string; count: number }[] }>(
      `/v1/property/${id}/stats?range=30days`,
    );
    expect(series.totals.clicks).toBe(MIN_RANKED_CLICKS + 4);
    expect(await texts(page, '[data-testid="kpi-clicks"]')).toEqual([en.count(series.totals.clicks!)]);
    expect(await texts(page, '[data-testid="kpi-invalid"]')).toEqual([en.count(series.totals.invalid!)]);
    expect(await texts(page, '[data-testid="kpi-share"]')).toEqual([en.percent(series.totals.invalidShare!)]);
    expect(await texts(page, '[data-testid="kpi-spend"]')).toEqual([en.money(series.totals.wastedSpend!, 'EUR')]);
    expect(series.totals.wastedSpend).toBeCloseTo(series.totals.invalid! * 0.8, 2);
    expect(await tableRows(page, 'bands-table')).toEqual([
      ['Clean', en.count(stats.cleanCount!)],
      ['Suspicious', en.count(stats.suspiciousCount!)],
      ['Fraud', en.count(stats.fraudCount!)],
    ]);
    expect(await tableRows(page, 'rules-table')).toEqual(stats.topRules.map((r) => [r.rule, en.count(r.count)]));
    await page.getByText('Per-day numbers').click();
    const days = [...series.days]
      .reverse()
      .map((d) => [
        d.date,
        en.count(d.clicks as number),
        en.count(d.invalid as number),
        en.percent(d.invalidShare as number),
        d.wastedSpend === null ? '—' : en.money(d.wastedSpend as number, 'EUR'),
      ]);
    expect(await tableRows(page, 'days-table')).toEqual(days);
    expect(await page.locator('.chart canvas').count()).toBe(1);
    expect(await page.locator('[data-testid="monitor-banner"]').count()).toBe(0);
  });

  it('traffic sources show the API’s invalid share (a percentage, “—” only when null) and conversion rates', async () => {
    const { page } = desktop;
    const sources = await api<z.infer<typeof TrafficSources>>(`/v1/property/${seeded.property.id}/sources`);
    expect(sources.sources.map((s) => s.source)).toContain('campaign:4242');
    expect(await tableRows(page, 'sources-table')).toEqual(
      sources.sources.map((s) => [
        s.source,
        en.count(s.clicks),
        s.invalidShare === null ? '—' : en.percent(s.invalidShare),
        en.count(s.conversions),
        en.percent(s.conversionRate),
        s.learned ?? '—',
      ]),
    );
  });

  it('click explorer explains a click as the API does, searching without putting it in the URL', async () => {
    const { page } = desktop;
    const clickId = seeded.fraudClickIds[0]!;
    await show(page, 'clicks');
    await page.getByLabel('Search by').selectOption('clickId');
    await page.getByLabel('Value').fill(clickId);
    await page.getByRole('button', { name: 'Search' }).click();
    const card = page.locator(`article[data-click-id="${clickId}"]`);
    await card.waitFor();
    const answer = await stack.fetchJson(`/v1/property/${seeded.property.id}/clicks/search`, {
      apiKey: seeded.property.readonlyKey,
      body: { clickId },
    });
    const click = answer.body.clicks[0];
    expect(await card.locator('[data-testid="verdict-final"] .value').textContent()).toBe(
      `${click.final.label} · ${click.final.score}`,
    );
    expect(await card.locator('[data-testid="verdict-at-click"] .value').textContent()).toBe(
      `${click.atClick.label} · ${click.atClick.score}`,
    );
    expect(await tableRows(page, 'reasons-table')).toEqual(
      click.reasons.map((r: { rule: string; score: number; details: string }) => [r.rule, String(r.score), r.details]),
    );
    expect(await card.locator('[data-testid="done-blocked"]').textContent()).toMatch(/^Blocked/);
    expect(page.url()).toBe(`${stack.url}/dashboard/#clicks`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'clicks-desktop.png'), fullPage: true });
  });

  it('blocklist, exclusions, change log and next push equal the API; the read-only key cannot take one back', async () => {
    const { page } = desktop;
    await show(page, 'blocklist');
    const list = await api<{ blocklist: { ip: string; score: number; reason: string }[] }>(
      `/v1/property/${seeded.property.id}/blocklist?days=30`,
    );
    expect(list.blocklist.length).toBeGreaterThan(0);
    const rows = await tableRows(page, 'blocklist-table');
    expect(rows.map((row) => row.slice(0, 3))).toEqual(list.blocklist.map((e) => [e.ip, String(e.score), e.reason]));

    const exclusions = await api<ExclusionsAnswer>(exclusionsPath());
    expect(exclusions.accountState).toBe('known');
    const ours = exclusions.excluded.filter((e) => e.by === 'clicksieve' && e.kind !== 'placement');
    expect(ours.map((e) => e.value)).toContain(DATACENTER_IP);
    expect(exclusions.excluded.some((e) => e.by === 'advertiser')).toBe(true);
    const excludedRow = (e: ExclusionsAnswer['excluded'][number]) => [
      e.value,
      where(e),
      e.by === 'clicksieve' ? 'clicksieve' : 'by hand',
      e.reason ?? '—',
      e.addedAt ? enDateTime(e.addedAt) : '—',
      e.runId ?? '—',
      e.by === 'clicksieve' ? 'Remove and don’t re-add' : '',
    ];
    expect(await tableRows(page, 'excluded-ips')).toEqual(
      exclusions.excluded.filter((e) => e.kind !== 'placement').map(excludedRow),
    );
    const placements = exclusions.excluded.filter((e) => e.kind === 'placement');
    if (placements.length) expect(await tableRows(page, 'excluded-placements')).toEqual(placements.map(excludedRow));
    else expect(await page.locator('[data-testid="excluded-placements-empty"]').count()).toBe(1);
    expect(exclusions.changeLog.length).toBeGreaterThan(0);
    expect(await tableRows(page, 'change-log-table')).toEqual(
      exclusions.changeLog.map((e) => [
        enDateTime(e.at),
        e.action.replace('_', ' '),
        e.value ?? '—',
        where(e),
        e.error ? `${e.reason} — ${e.error}` : e.reason,
        e.runId,
      ]),
    );
    const plan = await api<{ mode: string; add: unknown[]; remove: unknown[]; unchanged: number }>(
      `${exclusionsPath()}/plan`,
    );
    expect(plan.mode).toBe('apply');
    await expectText(
      page,
      '[data-testid="plan-summary"]',
      new RegExp(`^${plan.add.length} to add, ${plan.remove.length} to remove, ${plan.unchanged} unchanged`),
    );
    expect(await page.locator('[data-testid="plan-account-unknown"]').count()).toBe(0);

    await page.locator('[data-testid="exclusions-readonly-note"]').waitFor();
    const remove = page.getByRole('button', { name: `Remove ${DATACENTER_IP} and don't re-add it` });
    expect(await remove.isDisabled()).toBe(true);
    const status = await page.evaluate(
      async ({ path, key }) => (await fetch(path, { method: 'DELETE', headers: { 'x-api-key': key } })).status,
      { path: `${exclusionsPath()}?value=${DATACENTER_IP}`, key: seeded.property.readonlyKey },
    );
    expect(status).toBe(403);
    expect((await api<ExclusionsAnswer>(exclusionsPath())).takenBack).toEqual([]);
    desktop.problems.splice(0, desktop.problems.length, ...desktop.problems.filter((p) => !/status of 403/.test(p)));
  });

  it('settings show the per-band and per-rule conversion rates the calibration route answers', async () => {
    const { page } = desktop;
    await show(page, 'settings');
    type Figures = { clicks: number; conversions: number; conversionRate: number | null };
    const calibration = await api<{
      total: Figures;
      bands: (Figures & { band: string })[];
      deciles: (Figures & { fromScore: number; toScore: number })[];
      rules: (Figures & { rule: string })[];
    }>(`/v1/property/${seeded.property.id}/calibration?range=90days`);
    expect(calibration.total).toMatchObject({ clicks: MIN_RANKED_CLICKS + 4, conversions: 2 });
    const names: Record<string, string> = { CLEAN: 'Clean', SUSPICIOUS: 'Suspicious', FRAUD: 'Fraud' };
    const rate = (f: Figures) => (f.conversionRate === null ? '—' : en.percent(f.conversionRate));
    expect(await tableRows(page, 'calibration-bands')).toEqual(
      calibration.bands.map((b) => [names[b.band], rate(b), en.count(b.clicks), en.count(b.conversions)]),
    );
    const fraud = calibration.bands.find((b) => b.band === 'FRAUD')!;
    expect(fraud.clicks).toBeGreaterThan(0);
    expect(fraud.conversions).toBe(0);
    const text = (f: Figures) =>
      `${en.percent(f.conversionRate!)} convert (${en.count(f.conversions)} of ${en.count(f.clicks)})`;
    expect(await page.locator('[data-testid="calibration-bands"] caption').textContent()).toBe(
      `All clicks: ${text(calibration.total)}`,
    );
    await page.getByText('By score decile').click();
    expect(await tableRows(page, 'calibration-deciles')).toEqual(
      calibration.deciles
        .filter((d) => d.clicks > 0)
        .map((d) => [`${d.fromScore}–${d.toScore}`, rate(d), en.count(d.clicks), en.count(d.conversions)]),
    );
    expect(calibration.rules.length).toBeGreaterThan(0);
    for (const rule of calibration.rules) {
      expect(await page.locator(`[data-rule="${rule.rule}"] .note`).textContent()).toBe(
        `Fired at the click: ${text(rule)}`,
      );
    }
  });

  it('read-only key: settings are shown disabled and the API refuses a change made anyway', async () => {
    const { page } = desktop;
    await show(page, 'settings');
    await page.locator('[data-testid="readonly-note"]').waitFor();
    expect(await page.getByLabel('Block (fraud) from score').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    expect(await page.getByLabel('Block (fraud) from score').inputValue()).toBe('70');
    expect(await page.getByRole('button', { name: /Rotate/ }).count()).toBe(0);
    const status = await page.evaluate(
      async ({ id, key }) =>
        (
          await fetch(`/v1/properties/${id}/config`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ monitorOnly: true }),
          })
        ).status,
      { id: seeded.property.id, key: seeded.property.readonlyKey },
    );
    expect(status).toBe(403);
    const config = await api<{ monitorOnly: boolean }>(`/v1/properties/${seeded.property.id}/config`);
    expect(config.monitorOnly).toBe(false);
    desktop.problems.splice(0, desktop.problems.length, ...desktop.problems.filter((p) => !/status of 403/.test(p)));
  });

  it('keeps the key out of URLs, storage and cookies', async () => {
    const { page } = desktop;
    const stored = await page.evaluate(() => ({
      url: location.href,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
    }));
    expect(stored).toEqual({ url: `${stack.url}/dashboard/#settings`, local: '{}', session: '{}', cookie: '' });
  });

  it('secret key: saves settings, and the overview then shows the monitor-only banner', async () => {
    const { page } = desktop;
    await page.click('#signout');
    await signIn(page, seeded.property.secretKey);
    await show(page, 'settings');
    await page.getByLabel(/Monitor only/).check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expectText(page, '[data-page="settings"] form [role="status"]', /^Saved\.$/);
    const config = await api<{ monitorOnly: boolean }>(`/v1/properties/${seeded.property.id}/config`);
    expect(config.monitorOnly).toBe(true);
    await show(page, 'overview');
    await page.locator('[data-testid="monitor-banner"]').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'overview-monitor-only-desktop.png'), fullPage: true });
    const off = await stack.fetchJson(`/v1/properties/${seeded.property.id}/config`, {
      method: 'PUT',
      apiKey: seeded.property.secretKey,
      body: { monitorOnly: false },
    });
    expect(off.status).toBe(200);
  });

  it('secret key: "Remove and don’t re-add" takes an exclusion back, and "Allow again" lets it back in', async () => {
    const { page } = desktop;
    await show(page, 'blocklist');
    await page.getByRole('button', { name: `Remove ${DATACENTER_IP} and don't re-add it` }).click();
    await expectText(page, '#exclusions-status', new RegExp(`^${DATACENTER_IP.replaceAll('.', '\\.')} taken back`));
    const after = await api<ExclusionsAnswer>(exclusionsPath());
    expect(after.takenBack).toEqual([DATACENTER_IP]);
    expect(after.excluded.some((e) => e.value === DATACENTER_IP)).toBe(false);
    expect(after.changeLog.some((e) => e.action === 'removed' && e.value === DATACENTER_IP)).toBe(true);
    expect(await tableRows(page, 'taken-back')).toEqual([[DATACENTER_IP, 'Allow again']]);
    expect((await tableRows(page, 'excluded-ips')).map((row) => row[0])).not.toContain(DATACENTER_IP);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'blocklist-taken-back-desktop.png'), fullPage: true });

    await page.getByRole('button', { name: `Allow ${DATACENTER_IP} again` }).click();
    await expectText(page, '#exclusions-status', /may be pushed again/);
    expect((await api<ExclusionsAnswer>(exclusionsPath())).takenBack).toEqual([]);
    expect(await page.locator('[data-testid="taken-back-empty"]').count()).toBe(1);
  });

  it('every page renders at desktop and phone widths without console errors (screenshots)', async () => {
    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE_SESSION],
    ] as const) {
      const watched = width === 'desktop' ? desktop : await openPage(viewport);
      const { page } = watched;
      if (watched === desktop) await page.click('#signout');
      await page.goto(`${stack.url}/dashboard/`);
      await page.screenshot({ path: path.join(SCREENSHOTS, `signin-${width}.png`), fullPage: true });
      await signIn(page, seeded.property.readonlyKey);
      for (const name of PAGES) {
        await show(page, name);
        if (name === 'clicks') {
          await page.getByLabel('Search by').selectOption('gclid');
          await page.getByLabel('Value').fill(seeded.fraudGclid);
          await page.getByRole('button', { name: 'Search' }).click();
          await page.locator('article[data-click-id]').first().waitFor();
        }
        if (name === 'settings') await page.getByText('By score decile').click();
        await page.waitForTimeout(200);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
        await expectNoSidewaysScroll(page, name, width === 'phone' ? PHONE.width : undefined);
      }
      expect(unexpected(watched)).toEqual([]);
      if (watched !== desktop) await watched.context.close();
    }
  }, 120_000);

  it('works from the keyboard alone: every control is labelled and reachable', async () => {
    const { page } = desktop;
    await page.click('#signout');
    await page.goto(`${stack.url}/dashboard/`);
    await page.keyboard.type(seeded.property.readonlyKey);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-page="overview"]');
    for (const name of PAGES) {
      await show(page, name);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea')]
          .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML),
      );
      expect(unlabelled).toEqual([]);
    }
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    expect(focused).toBeTruthy();
  });
});

describe('operator view', () => {
  it('the admin key lists the properties as the API does; property keys get 403 on that route', async () => {
    const listed = await stack.fetchJson('/v1/properties', { admin: true });
    expect(listed.status).toBe(200);
    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE_SESSION],
    ] as const) {
      const watched = await openPage(viewport);
      const { page } = watched;
      await page.goto(`${stack.url}/dashboard/`);
      await page.getByLabel('Dashboard key').fill(stack.adminKey);
      await page.getByLabel(/Operator/).check();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('[data-page="properties"]');
      expect(await tableRows(page, 'properties-table')).toEqual(
        listed.body.properties.map(
          (p: { id: string; name: string; domain?: string; plan: string; enabled: boolean; created: string }) => [
            p.name,
            p.id,
            p.domain ?? '—',
            p.plan,
            p.enabled ? 'enabled' : 'disabled',
            enDateTime(p.created),
          ],
        ),
      );
      expect((await tableRows(page, 'properties-table')).map((row) => row[1])).toContain(seeded.property.id);
      await page.screenshot({ path: path.join(SCREENSHOTS, `properties-${width}.png`), fullPage: true });
      await expectNoSidewaysScroll(page, 'properties', width === 'phone' ? PHONE.width : undefined);
      const statuses = await page.evaluate(
        async (keys) =>
          Promise.all(
            keys.map(async (key) => (await fetch('/v1/properties', { headers: { 'x-api-key': key } })).status),
          ),
        [seeded.property.secretKey, seeded.property.readonlyKey],
      );
      expect(statuses).toEqual([403, 403]);
      expect(page.url()).toBe(`${stack.url}/dashboard/`);
      expect(watched.problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
      await watched.context.close();
    }
  });
});

/**
 * Nothing wider than the screen: the page does not scroll sideways (at a phone's width, not even inside a
 * table — tables become cards there), and the layout viewport was not widened to fit something.
 */
async function expectNoSidewaysScroll(page: Page, name: string, phoneWidth?: number): Promise<void> {
  const sizes = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    scrollingTables: [...document.querySelectorAll('.table-wrap')]
      .filter((wrap) => wrap.scrollWidth > wrap.clientWidth + 1)
      .map((wrap) => wrap.querySelector('table')?.getAttribute('data-testid') ?? 'table'),
  }));
  expect({ name, overflow: Math.max(0, sizes.scrollWidth - sizes.innerWidth) }).toEqual({ name, overflow: 0 });
  if (phoneWidth !== undefined) {
    expect({ name, innerWidth: sizes.innerWidth, scrollWidth: sizes.scrollWidth <= phoneWidth }).toEqual({
      name,
      innerWidth: phoneWidth,
      scrollWidth: true,
    });
    expect({ name, scrollingTables: sizes.scrollingTables }).toEqual({ name, scrollingTables: [] });
  }
}

async function expectText(page: Page, selector: string, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    ({ selector, source }) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ''),
    { selector, source: pattern.source },
    { timeout: 10_000 },
  );
}
