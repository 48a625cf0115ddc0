import type { BotAction, BotLevel } from '../model';
import type { PropertyConfigInput } from '../schemas/properties';
import { type Allowlist, compileAllowlist } from './allowlist';
import type { RuleId } from './rules';

/** The engine's view of a property's configuration: defaults merged in, allowlist compiled. */
export interface EngineConfig {
  readonly thresholds: { readonly suspicious: number; readonly fraud: number };
  readonly monitorOnly: boolean;
  readonly allowlist: Allowlist;
  /** Multiplier per rule id (0 disables a rule); rules not listed use 1. */
  readonly ruleWeights: Readonly<Partial<Record<RuleId | string, number>>>;
  readonly botActions: Readonly<Record<BotLevel, BotAction>>;
}

const DEFAULT_THRESHOLDS = { suspicious: 40, fraud: 70 } as const;
const DEFAULT_BOT_ACTIONS: Readonly<Record<BotLevel, BotAction>> = {
  low: 'record_only',
  medium: 'flag',
  high: 'flag',
  critical: 'challenge',
};

/** Build once per cached config read, never per click: the allowlist compilation is the costly part. */
export function engineConfigFrom(stored?: PropertyConfigInput): EngineConfig {
  return {
    thresholds: { ...DEFAULT_THRESHOLDS, ...stored?.thresholds },
    monitorOnly: stored?.monitorOnly ?? false,
    allowlist: compileAllowlist(stored?.allowlist ?? []),
    ruleWeights: { ...stored?.ruleWeights },
    botActions: { ...DEFAULT_BOT_ACTIONS, ...stored?.botActions },
  };
}
