import type { BotAction, BotLevel, ClickRecord, Label, Outcome } from '../../../shared/model';
import type { ClickStores } from '../../../shared/store';

const LEVELS: BotLevel[] = ['low', 'medium', 'high', 'critical'];
const LABELS: Label[] = ['CLEAN', 'SUSPICIOUS', 'FRAUD'];

/** An outcome consistent with the contract's bands for a score. */
export function outcomeFor(score: number, rules: string[] = []): Outcome {
  const label = LABELS[score >= 70 ? 2 : score >= 40 ? 1 : 0]!;
  const botLevel = LEVELS[score >= 90 ? 3 : score >= 70 ? 2 : score >= 40 ? 1 : 0]!;
  const botAction: BotAction = botLevel === 'low' ? 'record_only' : botLevel === 'critical' ? 'challenge' : 'flag';
  const action = label === 'FRAUD' ? 'BLOCK' : label === 'SUSPICIOUS' ? 'FLAG' : 'ALLOW';
  return { score, label, action, botLevel, botAction, rules };
}

export function clickFixture(propertyId: string, clickId: string, at: number, score: number, rules: string[] = []) {
  const outcome = outcomeFor(score, rules);
  return {
    clickId,
    propertyId,
    visitorId: `vis_${clickId.slice(4)}`,
    at,
    ip: `203.0.113.${score % 250}`,
    valueTrack: {},
    clickToken: `ct_${clickId.slice(4)}`,
    atClick: outcome,
    current: outcome,
    reasons: rules.map((rule) => ({ rule, score: 10, details: 'fixture' })),
  } satisfies ClickRecord;
}

/** Stores a click as the click path does and counts it as the click counter does (one batch of one). */
export async function recordCounted(
  stores: Pick<ClickStores, 'ledger' | 'counts'>,
  record: ClickRecord,
  timezone: string,
): Promise<'stored' | 'duplicate'> {
  const stored = await stores.ledger.recordClick(record);
  if (stored === 'stored') {
    await stores.counts.count([
      {
        clickId: record.clickId,
        propertyId: record.propertyId,
        timezone,
        at: record.at,
        now: { version: 1, outcome: record.current },
      },
    ]);
  }
  return stored;
}
