import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBacktest } from '../../../cli/backtest';
import { engineConfigFrom } from '../../../shared/scoring';
import { CHROME_DESKTOP, fakeIntel, SAFARI_IPHONE } from '../scoring/fixtures';

const T0 = Date.UTC(2026, 4, 10, 9, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const AWS_IP = '3.5.140.2';

/** A day of traffic: ordinary visitors with beacons and some conversions, one clicking burst, one cloud bot. */
function generateLog(): { lines: string[]; clickIds: string[] } {
  const lines: string[] = [];
  const clickIds: string[] = [];
  const add = (o: object): void => {
    lines.push(JSON.stringify(o));
  };
  for (let i = 0; i < 300; i++) {
    const at = T0 + i * 60_000;
    const clickId = `clk_human${i}`;
    clickIds.push(clickId);
    add({
      type: 'click',
      timestamp: iso(at),
      property: 'prop_a',
      ip: `81.2.${i % 200}.${(i * 7) % 250}`,
      user_agent: i % 2 ? SAFARI_IPHONE : CHROME_DESKTOP,
      gclid: `g_${i}`,
      page_url: `https://shop.example/?campaignid=1&placement=site${i % 3}.example`,
      click_id: clickId,
      visitor_id: `vis_h${i}`,
    });
    add({
      type: 'beacon',
      timestamp: iso(at + 30_000),
      property: 'prop_a',
      click_id: clickId,
      time_on_page: 30,
      scroll_depth: 60,
      mouse_entropy: i % 2 ? 0 : 800,
    });
    if (i % 10 === 0)
      add({ type: 'conversion', timestamp: iso(at + 50_000), property: 'prop_a', gclid: `g_${i}`, value: 10 });
    if (i === 100) {
      // Eight clicks in ten minutes from one address: the first is CLEAN at click, FRAUD once the burst is known.
      for (let k = 0; k < 8; k++) {
        const burstId = `clk_burst${k}`;
        clickIds.push(burstId);
        add({
          type: 'click',
          timestamp: iso(at + k * 70_000),
          property: 'prop_a',
          ip: '198.51.100.50',
          user_agent: CHROME_DESKTOP,
          click_id: burstId,
        });
      }
    }
    if (i === 200) {
      clickIds.push('clk_bot');
      add({
        type: 'click',
        timestamp: iso(at),
        property: 'prop_a',
        ip: AWS_IP,
        user_agent: 'python-requests/2.31',
        click_id: 'clk_bot',
      });
    }
  }
  add({ type: 'click', timestamp: 'garbage', property: 'prop_a', ip: '1.1.1.1' });
  return { lines, clickIds };
}

describe('offline backtest', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'clicksieve-backtest-'));
  const input = path.join(dir, 'log.ndjson');
  const output = path.join(dir, 'scores.ndjson');
  const { lines, clickIds } = generateLog();
  writeFileSync(input, `${lines.join('\n')}\n`);
  const intel = fakeIntel({ [AWS_IP]: { cloud: { provider: 'AWS' } } });

  it('writes one final verdict per click, in input order, with the at-click score alongside', async () => {
    const summary = await runBacktest({
      input,
      output,
      progress: false,
      backtest: { configFor: () => engineConfigFrom(), intel, horizonMs: 6 * 3_600_000 },
    });
    const scored = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(scored.map((s) => s.click_id)).toEqual(clickIds);
    expect(summary).toMatchObject({ clicks: clickIds.length, skipped: 1, unmatched: 0, conversions: 30 });
    expect(summary.skippedLines).toEqual([{ line: lines.length, reason: 'timestamp: not a date' }]);

    const byId = new Map(scored.map((s) => [s.click_id, s]));
    expect(byId.get('clk_bot')).toMatchObject({ label_at_click: 'FRAUD', label: 'FRAUD' });
    expect(byId.get('clk_burst0')).toMatchObject({ label_at_click: 'CLEAN', label: 'FRAUD' });
    expect(byId.get('clk_burst7')).toMatchObject({ label: 'FRAUD' });
    const humans = scored.filter((s) => s.click_id.startsWith('clk_human'));
    expect(humans.every((s) => s.label === 'CLEAN')).toBe(true);
    expect(summary.final.FRAUD).toBe(9);
    expect(summary.rules.ip_velocity).toBe(8);
  });

  it('keeps only clicks inside the horizon in memory', async () => {
    const { Backtest } = await import('../../../shared/backtest/backtest');
    let emitted = 0;
    const bt = new Backtest({ configFor: () => engineConfigFrom(), intel, horizonMs: 3_600_000 }, () => {
      emitted++;
    });
    for (let i = 0; i < 5000; i++) {
      bt.push({ type: 'click', timestamp: iso(T0 + i * 10_000), property: 'prop_a', ip: `81.2.${i % 250}.${i % 199}` });
      // One click every 10 s with a one-hour horizon: never more than 361 waiting.
      expect(bt.pending).toBeLessThanOrEqual(361);
    }
    bt.finish();
    expect(emitted).toBe(5000);
  });
});
