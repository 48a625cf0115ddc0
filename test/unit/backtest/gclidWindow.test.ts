import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../../cli/backtest';
import { Backtest } from '../../../shared/backtest/backtest';
import type { ScoredClick } from '../../../shared/backtest/logLine';
import { DEFAULT_CONFIG } from '../../../shared/properties/config';
import { DEFAULT_GCLID_KEEP_DAYS, engineConfigFrom } from '../../../shared/scoring';
import { CHROME_DESKTOP, fakeIntel } from '../scoring/fixtures';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86_400_000;

/** The `i`-th click of one gclid, `day` days after T0, from an address and visitor of its own. */
const clickOn = (day: number, i: number) => ({
  type: 'click' as const,
  timestamp: new Date(T0 + day * DAY).toISOString(),
  property: 'prop_a',
  ip: `81.2.${i}.7`,
  user_agent: CHROME_DESKTOP,
  gclid: 'gclid-replayed',
  click_id: `clk_day${day}`,
  visitor_id: `vis_${i}`,
});

/** One gclid clicked on each of `days` (from T0), each time from another address and visitor. */
function replay(days: readonly number[], retentionDays?: number): Map<string, boolean> {
  const config = engineConfigFrom();
  const scored: ScoredClick[] = [];
  const backtest = new Backtest({ configFor: () => config, intel: fakeIntel({}), retentionDays }, (s) =>
    scored.push(s),
  );
  days.forEach((day, i) => {
    backtest.push(clickOn(day, i));
  });
  backtest.finish();
  return new Map(scored.map((s) => [s.click_id, s.reasons.some((r) => r.rule === 'duplicate_gclid')]));
}

describe('backtest: a gclid is a duplicate while its first click is kept (as the service counts it)', () => {
  it('remembers it for the default retention from its first click, however long ago the last use was', () => {
    expect(DEFAULT_GCLID_KEEP_DAYS).toBe(DEFAULT_CONFIG.retentionDays);
    const duplicate = replay([0, 100, 395, 397]);
    expect([...duplicate]).toEqual([
      ['clk_day0', false],
      ['clk_day100', true],
      ['clk_day395', true],
      // Past the first click's retention: a first use again, even though the gclid came back two days before.
      ['clk_day397', false],
    ]);
  });

  it('follows a shorter retention, and later uses do not extend it', () => {
    const duplicate = replay([0, 20, 29, 31, 45], 30);
    expect([...duplicate]).toEqual([
      ['clk_day0', false],
      ['clk_day20', true],
      ['clk_day29', true],
      ['clk_day31', false],
      ['clk_day45', true],
    ]);
  });

  it("takes the retention from the CLI's --config file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicksieve-gclid-'));
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const input = file('log.ndjson', [0, 31].map((day, i) => JSON.stringify(clickOn(day, i))).join('\n'));
    const flagged = async (config: object) => {
      const output = path.join(dir, 'scores.ndjson');
      const args = [
        'backtest',
        '--input',
        input,
        '--output',
        output,
        '--config',
        file('config.json', JSON.stringify(config)),
      ];
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        expect(await main(args, {})).toBe(0);
      } finally {
        stderr.mockRestore();
      }
      const last = JSON.parse(readFileSync(output, 'utf8').trim().split('\n').at(-1) as string) as ScoredClick;
      return last.reasons.some((r) => r.rule === 'duplicate_gclid');
    };
    expect(await flagged({})).toBe(true);
    expect(await flagged({ retentionDays: 30 })).toBe(false);
  });
});
