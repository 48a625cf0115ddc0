import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
  chromium as playwright,
} from 'playwright-core';

/**
 * The one way every browser test (the SDK's, the dashboard's) gets a real Chromium: the npm package
 * @sparticuz/chromium (its binary ships inside the package, so `npm ci` alone brings it), driven by
 * playwright-core. One browser per test file: launch in beforeAll, close in afterAll, and give each
 * session its own context.
 *
 *   const browser = await launchBrowser();
 *   const context = await browser.newContext(desktopSession());
 *   const { page, problems } = await watchedPage(browser, mobileSession({ viewport: PHONE }));
 */

/** Flags of the package that would make the browser less like a visitor's: it must enforce CORS and CSP. */
const UNREALISTIC_FLAGS = new Set(['--disable-web-security', '--allow-running-insecure-content', '--single-process']);

/**
 * The package is ESM only and finds its binary through `import.meta.url`, which jest's CommonJS transform
 * cannot run: ask a plain Node process for the path (it unpacks the binary to /tmp on first use).
 */
async function sparticuzChromium(): Promise<{ executablePath: string; args: string[] }> {
  const script =
    "import chromium from '@sparticuz/chromium';" +
    'console.log(JSON.stringify({ executablePath: await chromium.executablePath(), args: chromium.args }));';
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: __dirname,
  });
  return JSON.parse(stdout);
}

export async function launchBrowser(): Promise<Browser> {
  const { executablePath, args } = await sparticuzChromium();
  return playwright.launch({ executablePath, args: args.filter((flag) => !UNREALISTIC_FLAGS.has(flag)) });
}

/** Real user agents: the headless default says `HeadlessChrome`, which is scored as automation. */
export const DESKTOP_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Safari/537.36';
export const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/153.0.0.0 Mobile Safari/537.36';

/** A visitor's address is not the browser's business: put a proxy that adds X-Forwarded-For in front of the API. */
export interface SessionOptions {
  readonly userAgent?: string;
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Decides how numbers and dates are formatted (default en-GB). */
  readonly locale?: string;
  readonly timezoneId?: string;
}

/** The narrowest phone a page must fit without sideways scrolling (iPhone SE / mini, CSS pixels). */
export const PHONE = { width: 375, height: 812 } as const;

const common = (options: SessionOptions): BrowserContextOptions => ({
  locale: options.locale ?? 'en-GB',
  ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
});

/** A desktop visitor: real Chrome user agent, 1366×768, mouse and wheel. */
export function desktopSession(options: SessionOptions = {}): BrowserContextOptions {
  return {
    ...common(options),
    userAgent: options.userAgent ?? DESKTOP_CHROME,
    viewport: options.viewport ?? { width: 1366, height: 768 },
  };
}

/** A phone: touch, no mouse, mobile viewport and user agent. */
export function mobileSession(options: SessionOptions = {}): BrowserContextOptions {
  return {
    ...common(options),
    userAgent: options.userAgent ?? ANDROID_CHROME,
    viewport: options.viewport ?? { width: 412, height: 915 },
    deviceScaleFactor: 2.6,
    isMobile: true,
    hasTouch: true,
  };
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and page errors seen so far (a test may drop the ones it caused on purpose). */
  readonly problems: string[];
}

/** A page in its own context, recording every console error and uncaught page error. */
export async function watchedPage(browser: Browser, session: BrowserContextOptions): Promise<WatchedPage> {
  const context = await browser.newContext(session);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/** Closes a context, ignoring a browser that is already gone (a failed test must still report its own error). */
export async function closeQuietly(context: BrowserContext | undefined): Promise<void> {
  await context?.close().catch(() => undefined);
}
