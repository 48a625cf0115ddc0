import { formatSummary, main, tokenMasterFrom } from '../../../cli/backtest';
import { deriveSigningKey } from '../../../shared/auth/signingKey';
import { Backtest, type BacktestOptions } from '../../../shared/backtest/backtest';
import type { LogLine, ScoredClick } from '../../../shared/backtest/logLine';
import { engineConfigFrom } from '../../../shared/scoring';
import { issueClickToken } from '../../../shared/tokens';
import { CHROME_DESKTOP, fakeIntel } from '../scoring/fixtures';

const MASTER_HEX = '5a'.repeat(32);
const MASTER = Buffer.from(MASTER_HEX, 'hex');
const PROPERTY = 'prop_tokens';
const T0 = Date.UTC(2026, 4, 10, 9, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const issue = (nowMs: number, ttlSeconds = 900, propertyId = PROPERTY): string =>
  issueClickToken(deriveSigningKey(MASTER, propertyId), { propertyId, provider: 'google', ttlSeconds, nowMs }).token;

let ip = 0;
const click = (id: string, at: number, token?: string): LogLine => ({
  type: 'click',
  timestamp: iso(at),
  property: PROPERTY,
  ip: `81.2.3.${++ip}`,
  user_agent: CHROME_DESKTOP,
  click_id: id,
  ...(token !== undefined ? { click_token: token } : {}),
});

function replay(lines: readonly LogLine[], tokenKeyFor?: BacktestOptions['tokenKeyFor']) {
  const out = new Map<string, ScoredClick>();
  const backtest = new Backtest(
    { configFor: () => engineConfigFrom(), intel: fakeIntel(), ...(tokenKeyFor !== undefined ? { tokenKeyFor } : {}) },
    (scored) => out.set(scored.click_id, scored),
  );
  for (const line of lines) backtest.push(line);
  backtest.finish();
  const rules = (id: string): string[] => out.get(id)?.reasons.map((r) => r.rule) ?? [];
  return { summary: backtest.summary, rules, atClick: (id: string) => out.get(id)?.label_at_click };
}

describe('backtest click tokens', () => {
  const genuine = issue(T0);
  const log: LogLine[] = [
    click('valid', T0 + 1_000, genuine),
    click('forged', T0 + 2_000, `${issue(T0).slice(0, -4)}AAAA`),
    click('other_property', T0 + 3_000, issue(T0, 900, 'prop_other')),
    // Issued with a 60 s lifetime at T0; this line arrives five minutes later in event time.
    click('expired', T0 + 300_000, issue(T0, 60)),
    click('replayed', T0 + 600_000, genuine),
    click('no_token', T0 + 700_000),
  ];
  const keyFor = (propertyId: string): Buffer => deriveSigningKey(MASTER, propertyId);

  it('verifies tokens with the derived key, in event time, as the live path does', () => {
    const { rules, summary, atClick } = replay(log, keyFor);
    expect(rules('valid')).toEqual([]);
    expect(rules('forged')).toEqual(['click_token_invalid']);
    expect(rules('other_property')).toEqual(['click_token_invalid']);
    expect(rules('expired')).toEqual(['click_token_expired']);
    expect(rules('replayed')).toEqual(['click_token_replay']);
    expect(atClick('replayed')).not.toBe('CLEAN');
    // The first use stays the genuine one: a later replay never reaches back to it.
    expect(rules('no_token')).toEqual([]);
    expect(summary.tokens).toEqual({
      seen: 5,
      verified: true,
      invalid: 2,
      badSignature: 2,
      expired: 1,
      replayed: 1,
    });
  });

  it('judges expiry by the line’s timestamp, not by the wall clock or a later line', () => {
    const shortLived = issue(T0, 60);
    const { rules } = replay([click('in_time', T0 + 59_000, shortLived), click('later', T0 + 3_600_000)], keyFor);
    expect(rules('in_time')).toEqual([]);
  });

  it('without a key records tokens but judges none, and says so once', () => {
    const { rules, summary } = replay(log);
    for (const id of ['valid', 'forged', 'other_property', 'expired', 'replayed'])
      expect(rules(id).filter((r) => r.startsWith('click_token'))).toEqual([]);
    expect(summary.tokens).toMatchObject({ seen: 5, verified: false });
    const text = formatSummary(summary);
    expect(text.match(/not verified/g)).toHaveLength(1);
  });

  it('warns when every token fails its signature: most likely the wrong secret', () => {
    const { summary } = replay(log.slice(0, 1), () => deriveSigningKey(Buffer.alloc(32, 1), PROPERTY));
    expect(summary.tokens).toMatchObject({ seen: 1, invalid: 1, badSignature: 1 });
    expect(formatSummary(summary)).toContain('every token failed its signature check');
  });
});

describe('tokenMasterFrom', () => {
  it('reads the secret as the service does: hex as bytes, a generated string as UTF-8', () => {
    expect(tokenMasterFrom(MASTER_HEX)).toEqual(MASTER);
    expect(tokenMasterFrom(`${MASTER_HEX}\n`)).toEqual(MASTER);
    const generated = 'Abc123XyZ'.repeat(7).slice(0, 64);
    expect(tokenMasterFrom(generated)).toEqual(Buffer.from(generated, 'utf8'));
  });

  it('refuses a secret too short to be one', () => {
    expect(() => tokenMasterFrom('abcd')).toThrow(/at least 32 hex digits/);
  });
});

describe('clicksieve CLI arguments', () => {
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  it('prints help on stdout and exits 0', async () => {
    await expect(main(['backtest', '--help'], {})).resolves.toBe(0);
    expect(String(stdout.mock.calls[0]?.[0])).toContain('--token-secret');
  });

  it('exits 2 with a short message on a usage error', async () => {
    await expect(main(['backtest', '--input', 'log.ndjson'], {})).resolves.toBe(2);
    await expect(main(['backtest', '--bogus'], {})).resolves.toBe(2);
    await expect(main(['backtest', '--input', 'a', '--output', 'b', '--token-secret', 'short'], {})).resolves.toBe(2);
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/--input and --output are required/);
  });
});
