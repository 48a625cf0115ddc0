import { isbotMatch } from 'isbot';

/** What the user agent says about the client; computed once per distinct agent string (memoised). */
export interface UserAgentVerdict {
  readonly kind: 'browser' | 'crawler' | 'automation' | 'missing' | 'malformed';
  /** The token that matched (e.g. `HeadlessChrome`, `Googlebot`), for reason details. */
  readonly match?: string;
  /** A phone/tablet browser: touch input (no pointer), often behind carrier NAT. */
  readonly mobile: boolean;
}

/** Tools and headless browsers; anchored where a bare word would hit real browsers. */
const AUTOMATION =
  /HeadlessChrome|PhantomJS|Selenium|webdriver|SlimerJS|Puppeteer|Playwright|Nightmare|CasperJS|\bcurl\/|\bWget\/|python-requests|python-urllib|Python\/\d|aiohttp|httpx\/|Go-http-client|axios\/|node-fetch|undici|^Java\/|Apache-HttpClient|libwww-perl|LWP::|Scrapy|Guzzle|^PostmanRuntime|HTTPie|Jakarta Commons|Mechanize/i;

/**
 * In-app browsers and real browsers whose agents contain crawler-like words ("search", "watch",
 * "crawl" in a product name). When isbot's match is one of these weak words and the agent is a full
 * browser agent from an in-app/webview shell, it is a person, not a crawler.
 */
const IN_APP =
  /\b(FBAN|FBAV|FB_IAB|Instagram|MetaIAB|Line\/|MicroMessenger|GSA\/|Snapchat|Pinterest|TikTok|musical_ly|BytedanceWebview|Twitter|LinkedInApp|KAKAOTALK|NAVER|Zalo|YaBrowser|SamsungBrowser|DuckDuckGo\/)/;
const WEAK_BOT_WORDS = /^(search|watch|crawl|spider|scan|fetch|check|monitor|preview|http)/i;
const FULL_BROWSER =
  /^Mozilla\/5\.0 \((Windows|Macintosh|X11|Linux|iPhone|iPad|iPod|Android)[^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)/;
const MOBILE = /Mobi|Android|iPhone|iPad|iPod|Windows Phone|Opera Mini/;
/** A well-formed agent has at least one product/version token. */
const HAS_PRODUCT = /[A-Za-z][\w.-]*\/\S/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const CACHE_LIMIT = 20_000;
const cache = new Map<string, UserAgentVerdict>();
const MISSING: UserAgentVerdict = { kind: 'missing', mobile: false };

export function classifyUserAgent(userAgent: string | undefined): UserAgentVerdict {
  if (userAgent === undefined) return MISSING;
  const cached = cache.get(userAgent);
  if (cached !== undefined) return cached;
  const verdict = classifyUncached(userAgent);
  // Agents repeat heavily; a full cache is dropped rather than tracked per entry (cheap, bounded).
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(userAgent, verdict);
  return verdict;
}

function classifyUncached(raw: string): UserAgentVerdict {
  const ua = raw.trim();
  if (ua === '' || ua === '-') return MISSING;
  const automation = AUTOMATION.exec(ua);
  if (automation) return { kind: 'automation', match: automation[0], mobile: false };
  // One pass of isbot's pattern: isbotMatch is non-null exactly when isbot() is true.
  const match = isbotMatch(ua);
  if (match !== null) {
    const guarded = WEAK_BOT_WORDS.test(match) && FULL_BROWSER.test(ua) && IN_APP.test(ua);
    if (!guarded) return { kind: 'crawler', match, mobile: false };
  }
  if (ua.length < 12 || CONTROL_CHARS.test(ua) || !HAS_PRODUCT.test(ua)) {
    return { kind: 'malformed', mobile: false };
  }
  return { kind: 'browser', mobile: MOBILE.test(ua) };
}
