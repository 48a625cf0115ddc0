import { notFound } from '../http/errors';
import type { EffectiveConfig } from '../properties/config';
import type { AdsAccount } from './adsAccount';
import type { ChangeLogEntry, OwnedExclusion } from './exclusionLedger';
import type { ExclusionDeps } from './exclusionRun';
import type { ExclusionLevel } from './selection';

interface Property {
  readonly propertyId: string;
  readonly config: EffectiveConfig;
}

async function linkedAccount(deps: ExclusionDeps, property: Property): Promise<AdsAccount | undefined> {
  const link = property.config.adAccount;
  return link ? deps.accountFor(property.propertyId, link) : undefined;
}

/**
 * What is excluded now: clicksieve's own entries (from its ledger, checked against the account when it
 * can be read) and the advertiser's (in the account, not in the ledger), the taken-back addresses and
 * the change log, newest first.
 */
export async function listExclusions(deps: ExclusionDeps, property: Property, limit: number) {
  const { propertyId } = property;
  const [owned, takenBack, changeLog, account] = await Promise.all([
    deps.ledger.owned(propertyId),
    deps.ledger.suppressed(propertyId),
    deps.ledger.changeLog(propertyId, limit),
    linkedAccount(deps, property),
  ]);
  const [ips, placements] = account
    ? await Promise.all([account.listIpExclusions(), account.listPlacementExclusions()])
    : [undefined, undefined];
  const present =
    ips && placements
      ? [...ips, ...placements.map((p) => ({ ...p, level: 'account' as const, kind: 'placement' as const }))]
      : undefined;
  const presentNames = present ? new Set(present.map((p) => p.resourceName)) : undefined;
  const ownedNames = new Set(owned.map((o) => o.resourceName));
  const ours = owned
    .filter((o) => !presentNames || presentNames.has(o.resourceName))
    .map((o) => ({
      value: o.value,
      level: o.level,
      ...(o.campaignId ? { campaignId: o.campaignId } : {}),
      ...(o.kind ? { kind: o.kind } : {}),
      by: 'clicksieve' as const,
      reason: o.reason,
      addedAt: o.addedAt,
      runId: o.runId,
    }));
  const theirs = (present ?? [])
    .filter((p) => !ownedNames.has(p.resourceName))
    .map((p) => ({
      value: p.value,
      level: p.level,
      ...('campaignId' in p && p.campaignId ? { campaignId: p.campaignId } : {}),
      ...('kind' in p ? { kind: p.kind } : {}),
      by: 'advertiser' as const,
    }));
  return {
    accountState: account ? ('known' as const) : ('unknown' as const),
    excluded: [...ours, ...theirs],
    takenBack: [...takenBack].sort(),
    changeLog: changeLog as ChangeLogEntry[],
  };
}

type Target = { value: string; level: ExclusionLevel; campaignId?: string; kind?: 'placement' };
const target = (o: OwnedExclusion): Target => ({
  value: o.value,
  level: o.level,
  ...(o.campaignId ? { campaignId: o.campaignId } : {}),
  ...(o.kind ? { kind: o.kind } : {}),
});

/**
 * DELETE: takes one address/range (every level) or everything one run added out of the account now, and
 * keeps it out of later plans until the advertiser allows it again. Only clicksieve's own criteria are
 * removed; a value it never excluded is still taken back (it will not be pushed). A removal the account
 * refuses or cannot be reached for stays in the ledger, and the next push removes it.
 */
export async function takeBack(
  deps: ExclusionDeps,
  property: Property,
  what: { value?: string; runId?: string },
  runId: string,
) {
  const { propertyId } = property;
  const at = new Date(deps.now).toISOString();
  const owned = await deps.ledger.owned(propertyId);
  const matching = owned.filter((o) => (what.value !== undefined ? o.value === what.value : o.runId === what.runId));
  if (what.runId !== undefined && matching.length === 0) throw notFound('no exclusion of this run is in place');
  const values = what.value !== undefined ? [what.value] : [...new Set(matching.map((o) => o.value))];
  for (const value of values) await deps.ledger.suppress(propertyId, value, at);

  const account = matching.length > 0 ? await linkedAccount(deps, property) : undefined;
  const removed: Target[] = [];
  const pending: Target[] = [];
  for (const level of ['account', 'campaign'] as const) {
    const batch = matching.filter((o) => o.level === level);
    if (batch.length === 0) continue;
    if (!account) {
      pending.push(...batch.map(target));
      continue;
    }
    const outcomes = await account.removeIpExclusions(level, batch);
    for (const [i, entry] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome && (!outcome.error || outcome.error === 'RESOURCE_NOT_FOUND')) {
        await deps.ledger.deleteOwned(propertyId, entry);
        removed.push(target(entry));
      } else pending.push(target(entry));
    }
  }
  await deps.ledger.appendLog(
    propertyId,
    removed.map((r) => ({ at, runId, action: 'removed' as const, ...r, reason: 'taken back by the advertiser' })),
  );
  return { removed, takenBack: values, pending };
}
