import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * One headless Chromium for the dashboard suite: the binary @sparticuz/chromium ships inside its npm
 * package (so `npm ci` alone brings it), driven by playwright-core. Pages get a real desktop user agent
 * and en-US, so numbers are formatted the way the assertions format them.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium: pw } = require('playwright-core') as typeof import('playwright-core');
  const { executablePath, args } = chromiumBinary();
  // Its Lambda flags include --single-process, where closing a context takes the whole browser down.
  return pw.launch({ executablePath, args: args.filter((arg) => arg !== '--single-process'), headless: true });
}

/**
 * @sparticuz/chromium is ESM-only and reads import.meta, which jest's CommonJS runtime cannot load: ask a
 * child Node for the path of the binary it unpacks (to /tmp, once) and its flags.
 */
function chromiumBinary(): { executablePath: string; args: string[] } {
  const script =
    "import chromium from '@sparticuz/chromium';" +
    'console.log(JSON.stringify({ executablePath: await chromium.executablePath(), args: chromium.args }));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve(__dirname, '../../..'),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { executablePath: string; args: string[] };
}

export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, page errors and failed requests seen so far. */
  readonly problems: string[];
}

export async function openPage(browser: Browser, viewport: { width: number; height: number }): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport,
    locale: 'en-US',
    timezoneId: 'UTC',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}
