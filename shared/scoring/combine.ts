import type { Action, BotLevel, Label } from '../model';
import type { EngineConfig } from './config';

/** Diminishing returns: 100 × (1 − Π(1 − wᵢ)). Bounded in [0, 100] and monotone in every weight. */
export function combineWeights(weights: readonly number[]): number {
  let keep = 1;
  for (const w of weights) keep *= 1 - Math.min(1, Math.max(0, w));
  return 100 * (1 - keep);
}

export function labelFor(score: number, thresholds: EngineConfig['thresholds']): Label {
  if (score >= thresholds.fraud) return 'FRAUD';
  if (score >= thresholds.suspicious) return 'SUSPICIOUS';
  return 'CLEAN';
}

export function actionFor(label: Label, monitorOnly: boolean): Action {
  if (label === 'FRAUD') return monitorOnly ? 'FLAG' : 'BLOCK';
  return label === 'SUSPICIOUS' ? 'FLAG' : 'ALLOW';
}

/** Fixed by the contract (bot verdicts), independent of the property's label thresholds. */
export function botLevelFor(score: number): BotLevel {
  if (score >= 90) return 'critical';
  if (score >= 70) return 'high';
  if (score >= 40) return 'medium';
  return 'low';
}
