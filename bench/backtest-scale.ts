import { Backtest } from '../shared/backtest/backtest';
import { evaluationLog } from '../shared/backtest/evaluationLog';
import { bundledIntel } from '../shared/intel/current';
import { engineConfigFrom } from '../shared/scoring';

/**
 * The backtest at network scale, in its own process so peak memory is the backtest's: a labelled log of
 * BACKTEST_CLICKS clicks (default 1M, ~2.6 s apart: a month of event time, beacons and delayed conversions
 * included) streamed through the backtest. Prints one JSON line: clicks, seconds (wall and CPU), clicks per
 * second of each, peak RSS, AUC. CPU time is the figure to compare on a shared machine: wall time there is
 * mostly waiting for a core.
 */
function run(clicks: number): void {
  const config = engineConfigFrom();
  let emitted = 0;
  const backtest = new Backtest({ configFor: () => config, intel: bundledIntel() }, () => {
    emitted++;
  });
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  for (const { line } of evaluationLog({ clicks, seed: 3, gapMs: 2_600 })) backtest.push(line);
  backtest.finish();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(
    `${JSON.stringify({
      clicks: emitted,
      lines: backtest.summary.lines,
      seconds: Math.round(seconds * 10) / 10,
      clicksPerSecond: Math.round(emitted / seconds),
      cpuSeconds: Math.round(cpuSeconds * 10) / 10,
      clicksPerCpuSecond: Math.round(emitted / cpuSeconds),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      auc: backtest.summary.separation.auc(),
    })}\n`,
  );
}

run(Number(process.env.BACKTEST_CLICKS ?? 1_000_000));
