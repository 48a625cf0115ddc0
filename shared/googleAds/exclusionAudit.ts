import { notFound } from '../http/errors';
import { logger } from '../observability';
import { definedOnly } from '../optional';
import type { EffectiveConfig } from '../properties/config';
import type { ChangeLogEntry } from '../store/exclusionLedger';
import {
  type AccountProblem,
  AdAccountUnavailable,
  accountProblemOf,
  adAccountUnreachable,
  describeAccountProblem,
  noUsableLink,
} from './accountAccess';
import type { AdsAccount } from './adsAccount';
import { type ExclusionDeps, type RunReport, runExclusions } from './exclusionRun';
import type { ExclusionLevel } from './selection';

interface Property {
  readonly propertyId: string;
  readonly config: EffectiveConfig;
}

async function linkedAccount(deps: ExclusionDeps, property: Property): Promise<AdsAccount | undefined> {
  const link = property.config.adAccount;
  return link ? deps.accountFor(property.propertyId, link) : undefined;
}

type AccountView = {
  ips?: Awaited<ReturnType<AdsAccount['listIpExclusions']>>;
  placements?: Awaited<ReturnType<AdsAccount['listPlacementExclusions']>>;
  problem?: AccountProblem;
};

/** The account's exclusions, or why they could not be read (never thrown: the ledger's view still stands). */
async function readAccount(deps: ExclusionDeps, property: Property): Promise<AccountView> {
  if (!property.config.adAccount) return {};
  try {
    const account = await linkedAccount(deps, property);
    if (!account) return { problem: 'credentials_not_configured' };
    const [ips, placements] = await Promise.all([account.listIpExclusions(), account.listPlacementExclusions()]);
    return { ips, placements };
  } catch (error) {
    const problem = accountProblemOf(error);
    logger.warn('ad account not readable for the exclusions list', { propertyId: property.propertyId, problem });
    return { problem };
  }
}

/**
 * What is excluded now: clicksieve's own entries (from its ledger, checked against the account when it
 * can be read) and the advertiser's (in the account, not in the ledger), the taken-back addresses and
 * the change log, newest first. An account that cannot be read leaves `accountState: unknown` and says why.
 */
export async function listExclusions(deps: ExclusionDeps, property: Property, limit: number) {
  const { propertyId } = property;
  const [owned, takenBack, changeLog, { ips, placements, problem }] = await Promise.all([
    deps.ledger.owned(propertyId),
    deps.ledger.suppressed(propertyId),
    deps.ledger.changeLog(propertyId, limit),
    readAccount(deps, property),
  ]);
  const present: (Target & { resourceName: string })[] | undefined =
    ips && placements
      ? [...ips, ...placements.map((p) => ({ ...p, level: 'account' as const, kind: 'placement' as const }))]
      : undefined;
  const presentNames = present ? new Set(present.map((p) => p.resourceName)) : undefined;
  const ownedNames = new Set(owned.map((o) => o.resourceName));
  const ours = owned
    .filter((o) => !presentNames || presentNames.has(o.resourceName))
    .map((o) => ({ ...target(o), by: 'clicksieve' as const, reason: o.reason, addedAt: o.addedAt, runId: o.runId }));
  const theirs = (present ?? [])
    .filter((p) => !ownedNames.has(p.resourceName))
    .map((p) => ({ ...target(p), by: 'advertiser' as const }));
  return {
    accountState: present ? ('known' as const) : ('unknown' as const),
    ...definedOnly({
      accountStateNote:
        problem &&
        `the ad account could not be read (${describeAccountProblem(problem)}): only clicksieve's own record is shown`,
      accountProblem: problem,
    }),
    excluded: [...ours, ...theirs],
    takenBack: [...takenBack].sort(),
    changeLog: changeLog as ChangeLogEntry[],
  };
}

type Target = { value: string; level: ExclusionLevel; campaignId?: string; kind?: 'placement' };
const target = (o: Target): Target =>
  definedOnly({ value: o.value, level: o.level, campaignId: o.campaignId, kind: o.kind });

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

  let account: AdsAccount | undefined;
  let problem: AccountProblem | undefined;
  if (matching.length > 0) {
    try {
      account = await linkedAccount(deps, property);
      if (!account && property.config.adAccount) problem = 'credentials_not_configured';
    } catch (error) {
      problem = accountProblemOf(error);
    }
  }
  const removed: Target[] = [];
  const pending: Target[] = [];
  for (const level of ['account', 'campaign'] as const) {
    const batch = matching.filter((o) => o.level === level);
    if (batch.length === 0) continue;
    let outcomes: Awaited<ReturnType<AdsAccount['removeIpExclusions']>> = [];
    if (account && !problem) {
      try {
        outcomes = await account.removeIpExclusions(level, batch);
      } catch (error) {
        problem = accountProblemOf(error);
      }
    }
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
  if (problem) logger.warn('take-back left removals pending: ad account not usable', { propertyId, problem });
  return definedOnly({
    removed,
    takenBack: values,
    pending,
    accountProblem: pending.length > 0 ? problem : undefined,
  });
}

/**
 * POST …/exclusions/apply: the push for one property now. Refused with 409 when no link allows a push,
 * and with 502 (nothing changed, `details.reason` says why) when the linked account cannot be used;
 * monitor-only and dry-run answer 200 with the plan they recorded, whatever the account's state.
 */
export async function applyExclusionsNow(deps: ExclusionDeps, property: Property, runId: string): Promise<RunReport> {
  const link = property.config.adAccount;
  if (!link) throw noUsableLink('not_linked');
  if (!link.enabled) throw noUsableLink('link_disabled');
  try {
    return await runExclusions(deps, property, runId);
  } catch (error) {
    if (!(error instanceof AdAccountUnavailable)) throw error;
    logger.warn('exclusion push refused: ad account not usable', {
      propertyId: property.propertyId,
      runId,
      problem: error.problem,
    });
    throw adAccountUnreachable(error.problem, { runId });
  }
}
