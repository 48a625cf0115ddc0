import crawlers from 'crawler-user-agents';
import UserAgent from 'user-agents';
import { classifyUserAgent } from '../../../shared/scoring';

describe('user-agent quality gates on real lists', () => {
  it('catches at least 99 % of the crawler-user-agents examples as crawler or automation', () => {
    const examples = crawlers.flatMap((c) => c.instances);
    expect(examples.length).toBeGreaterThan(1000);
    const caught = examples.filter((ua) => {
      const kind = classifyUserAgent(ua).kind;
      return kind === 'crawler' || kind === 'automation';
    });
    expect(caught.length / examples.length).toBeGreaterThanOrEqual(0.99);
  });

  it('flags at most 0.1 % of 10 000 generated real browser agents as bots', () => {
    const flagged: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const ua = new UserAgent().toString();
      if (classifyUserAgent(ua).kind !== 'browser') flagged.push(ua);
    }
    expect(flagged.length).toBeLessThanOrEqual(10);
  });

  it.each([
    // Product names with crawler-like words and in-app shells are people.
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.0.0 (iPhone15,3; iOS 17_4; en_US)',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.0;FBBV/1;FBDV/iPhone15,3]',
    'Mozilla/5.0 (Linux; Android 13; SM-R910) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.0 Chrome/108.0.0.0 Mobile Safari/537.36 Watch',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.0.0 Mobile Safari/537.36 GSA/15.10.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  ])('does not flag the real browser %s', (ua) => {
    expect(classifyUserAgent(ua).kind).toBe('browser');
  });

  it.each([
    ['curl/8.5.0', 'automation'],
    ['Wget/1.21.4', 'automation'],
    ['python-requests/2.31.0', 'automation'],
    ['axios/1.6.8', 'automation'],
    ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'automation'],
    ['Java/17.0.2', 'automation'],
    ['libwww-perl/6.72', 'automation'],
    ['Scrapy/2.11 (+https://scrapy.org)', 'automation'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
      'automation',
    ],
    ['', 'missing'],
    // A bare product token is a non-browser client, which isbot already reports.
    ['Mozilla', 'crawler'],
    ['Mozilla 5.0 (Windows NT 10.0; Win64; x64)', 'malformed'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64)\u0000\u0007', 'malformed'],
  ])('classifies %j as %s', (ua, kind) => {
    expect(classifyUserAgent(ua).kind).toBe(kind);
  });
});
