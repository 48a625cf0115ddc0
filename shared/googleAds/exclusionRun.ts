import { randomUUID } from 'node:crypto';
import { logger } from '../observability';
import { definedOnly } from '../optional';
import type { AdAccountLink, EffectiveConfig } from '../properties/config';
import type { ChangeLogEntry, ExclusionLedger, OwnedExclusion } from '../store/exclusionLedger';
import { type IpReputationStore, RISKY_FLOOR } from '../store/ipReputation';
import { type AccountProblem, AdAccountUnavailable, accountProblemOf, describeAccountProblem } from './accountAccess';
import type { AccountIpExclusion, AdsAccount, AdsCampaign, CriterionOutcome } from './adsAccount';
import type { LowQualityPlacement, PlacementSource } from './placements';
import {
  bySeverity,
  CAMPAIGN_IP_CHANNELS,
  type CollapsedRange,
  type ExclusionLevel,
  type LeftOut,
  MAX_IP_EXCLUSIONS_PER_ACCOUNT,
  MAX_IP_EXCLUSIONS_PER_CAMPAIGN,
  selectExclusions,
} from './selection';

const DAY_MS = 86_400_000;
const MAX_ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 500;

export interface ExclusionDeps {
  readonly ipReputation: IpReputationStore;
  readonly ledger: ExclusionLedger;
  /** The linked ad account, or undefined when it cannot be reached (no credentials configured). */
  readonly accountFor: (propertyId: string, link: AdAccountLink) => Promise<AdsAccount | undefined>;
  readonly now: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Low-quality display/video placements; without it only IP exclusions are planned. */
  readonly placements?: PlacementSource | undefined;
}

interface PlannedChange {
  readonly value: string;
  readonly level: ExclusionLevel;
  readonly campaignId?: string;
  readonly reason: string;
  readonly score?: number;
  /** ISO time of the latest bad click. */
  readonly lastSeen?: string;
  /** Clicks from the address (a range: its bad members' sum) since its record started. */
  readonly clicks?: number;
  /** For a range: the addresses it replaces. */
  readonly collapsed?: readonly string[];
  /** Set on removals: the criterion clicksieve created. */
  readonly resourceName?: string;
  /** Set for a placement exclusion (account level; `value` is the placement URL). */
  readonly kind?: 'placement';
}

type PushMode = 'apply' | 'monitor_only' | 'dry_run' | 'not_linked' | 'link_disabled';

export interface ExclusionPlan {
  readonly propertyId: string;
  readonly generatedAt: string;
  readonly mode: PushMode;
  /** `known` when the account was read for this plan; otherwise the plan assumes only clicksieve's own record. */
  readonly accountState: 'known' | 'unknown';
  readonly accountStateNote?: string;
  /** Set when a linked account could not be read: why (the apply route answers 502 with it). */
  readonly accountProblem?: AccountProblem;
  readonly add: PlannedChange[];
  readonly remove: PlannedChange[];
  /** Clicksieve's exclusions that stay as they are. */
  readonly unchanged: number;
  readonly collapsed: CollapsedRange[];
  readonly leftOut: (Omit<LeftOut, 'lastSeen'> & { lastSeen: string })[];
  readonly room: { readonly account: number; readonly campaign: number };
  /** The advertiser's own IP exclusions: never touched, counted against the caps. */
  readonly manual: { value: string; level: ExclusionLevel; campaignId?: string; kind?: 'placement' }[];
  readonly campaigns: { id: string; channelType: string; takesIpExclusions: boolean }[];
}

const slot = (level: ExclusionLevel, campaignId: string | undefined, value: string) =>
  `${level}#${campaignId ?? '-'}#${value}`;

const unknownAccountNote = (problem: AccountProblem | undefined) =>
  problem
    ? `the ad account could not be read (${describeAccountProblem(problem)}): the plan assumes it holds only what clicksieve recorded`
    : 'no ad account is linked: the plan shows what would be excluded once one is';

function modeOf(config: EffectiveConfig): PushMode {
  if (!config.adAccount) return 'not_linked';
  if (!config.adAccount.enabled) return 'link_disabled';
  if (config.monitorOnly) return 'monitor_only';
  if (config.exclusionDryRun) return 'dry_run';
  return 'apply';
}

/**
 * What the next push would do for one property: read its bad and suspicious addresses of the expiry window,
 * its ledger and (when linked and reachable) the account, then select within the caps and diff against
 * what clicksieve owns. Never mutates anything.
 */
export async function planExclusions(
  deps: ExclusionDeps,
  property: { propertyId: string; config: EffectiveConfig },
): Promise<ExclusionPlan> {
  return (await drawPlan(deps, property)).plan;
}

/** The plan and the account it was drawn against (undefined when none is linked or it could not be read). */
async function drawPlan(
  deps: ExclusionDeps,
  property: { propertyId: string; config: EffectiveConfig },
): Promise<{ plan: ExclusionPlan; account: AdsAccount | undefined }> {
  const { propertyId, config } = property;
  const sinceMs = deps.now - config.exclusionExpiryDays * DAY_MS;
  const link = config.adAccount;
  const [risky, allOwned, suppressed, lowPlacements] = await Promise.all([
    deps.ipReputation.riskyIps(propertyId, sinceMs, RISKY_FLOOR),
    deps.ledger.owned(propertyId),
    deps.ledger.suppressed(propertyId),
    deps.placements && config.exclusionPlacements ? deps.placements.lowQualityPlacements(propertyId, deps.now) : [],
  ]);
  const owned = allOwned.filter((o) => o.kind !== 'placement');
  const ownedPlacements = allOwned.filter((o) => o.kind === 'placement');
  let presentPlacements: { value: string; resourceName: string }[] | undefined;
  let account: AdsAccount | undefined;
  let problem: AccountProblem | undefined;
  let campaigns: AdsCampaign[] = [];
  let present: AccountIpExclusion[] | undefined;
  try {
    account = link ? await deps.accountFor(propertyId, link) : undefined;
    if (link && !account) problem = 'credentials_not_configured';
    if (account)
      [campaigns, present, presentPlacements] = await Promise.all([
        account.listCampaigns(),
        account.listIpExclusions(),
        account.listPlacementExclusions(),
      ]);
  } catch (error) {
    // The plan is still worth having: drawn as if the account held only what clicksieve recorded.
    problem = accountProblemOf(error);
    logger.warn('ad account not readable for the exclusion plan', { propertyId, problem });
    account = undefined;
  }
  if (link?.campaignIds?.length) campaigns = campaigns.filter((c) => link.campaignIds!.includes(c.id));
  const ipCampaigns = campaigns.filter((c) => (CAMPAIGN_IP_CHANNELS as readonly string[]).includes(c.channelType));

  const ownedNames = new Set(owned.map((o) => o.resourceName));
  const manual = (present ?? []).filter((p) => !ownedNames.has(p.resourceName));
  const manualCount = (level: ExclusionLevel, campaignId?: string) =>
    manual.filter((m) => m.level === level && m.campaignId === campaignId).length;
  const room = {
    account: MAX_IP_EXCLUSIONS_PER_ACCOUNT - manualCount('account'),
    campaign:
      ipCampaigns.length === 0
        ? 0
        : Math.min(...ipCampaigns.map((c) => MAX_IP_EXCLUSIONS_PER_CAMPAIGN - manualCount('campaign', c.id))),
  };
  const selection = selectExclusions({
    ...bySeverity(risky, config.thresholds.fraud),
    allowlist: config.allowlist,
    suppressed,
    now: deps.now,
    // Without the account's state the plan is drawn against an empty account with every campaign slot free.
    room: account ? room : { account: MAX_IP_EXCLUSIONS_PER_ACCOUNT, campaign: MAX_IP_EXCLUSIONS_PER_CAMPAIGN },
  });

  // Owned entries the advertiser deleted by hand are gone: forget them rather than fight the advertiser.
  const presentNames = present ? new Set(present.map((p) => p.resourceName)) : undefined;
  const live = presentNames ? owned.filter((o) => presentNames.has(o.resourceName)) : owned;
  const manualSlots = new Set(manual.map((m) => slot(m.level, m.campaignId, m.value)));
  const ownedSlots = new Map(live.map((o) => [slot(o.level, o.campaignId, o.value), o]));

  const wanted = new Map<string, PlannedChange>();
  for (const s of selection.selected) {
    const base = definedOnly({
      value: s.value,
      reason: s.reason,
      score: s.score,
      lastSeen: new Date(s.lastSeen).toISOString(),
      clicks: s.clicks,
      collapsed: s.collapsed,
    });
    if (s.level === 'account') wanted.set(slot('account', undefined, s.value), { ...base, level: 'account' });
    else
      for (const c of ipCampaigns)
        wanted.set(slot('campaign', c.id, s.value), { ...base, level: 'campaign', campaignId: c.id });
  }
  // Campaign entries of a plan without account state: one line per address, campaigns unknown.
  if (!account)
    for (const s of selection.selected.filter((x) => x.level === 'campaign'))
      wanted.set(
        slot('campaign', undefined, s.value),
        definedOnly({
          value: s.value,
          level: 'campaign' as const,
          reason: s.reason,
          score: s.score,
          lastSeen: new Date(s.lastSeen).toISOString(),
          clicks: s.clicks,
          collapsed: s.collapsed,
        }),
      );

  const add = [...wanted].filter(([key]) => !ownedSlots.has(key) && !manualSlots.has(key)).map(([, change]) => change);
  const leftOutValues = new Set(selection.leftOut.map((l) => l.value));
  const rangeOf = new Map(selection.collapsed.flatMap((c) => c.addresses.map((a) => [a, c.range] as const)));
  const remove: PlannedChange[] = [...ownedSlots]
    .filter(([key]) => !wanted.has(key))
    .map(([, o]) =>
      definedOnly({
        value: o.value,
        level: o.level,
        campaignId: o.campaignId,
        resourceName: o.resourceName,
        reason: suppressed.has(o.value)
          ? 'taken back by the advertiser'
          : rangeOf.has(o.value)
            ? `replaced by the range ${rangeOf.get(o.value)}`
            : leftOutValues.has(o.value)
              ? 'pushed out by higher-ranked addresses (no room)'
              : selection.selected.some((s) => s.value === o.value)
                ? 'moved to the other level'
                : `expired: no click at or above the fraud threshold in ${config.exclusionExpiryDays} days`,
      }),
    );
  const placements = planPlacements(lowPlacements, ownedPlacements, presentPlacements, suppressed);
  add.push(...placements.add);
  remove.push(...placements.remove);
  const plan: ExclusionPlan = {
    propertyId,
    generatedAt: new Date(deps.now).toISOString(),
    mode: modeOf(config),
    accountState: account ? 'known' : 'unknown',
    // A problem is only ever set when the account could not be read.
    ...definedOnly({ accountStateNote: account ? undefined : unknownAccountNote(problem), accountProblem: problem }),
    add,
    remove,
    unchanged: ownedSlots.size + placements.kept - remove.length,
    collapsed: selection.collapsed,
    leftOut: selection.leftOut.map((l) => ({ ...l, lastSeen: new Date(l.lastSeen).toISOString() })),
    room: account ? room : { account: MAX_IP_EXCLUSIONS_PER_ACCOUNT, campaign: MAX_IP_EXCLUSIONS_PER_CAMPAIGN },
    manual: [
      ...manual.map((m) => definedOnly({ value: m.value, level: m.level, campaignId: m.campaignId })),
      ...placements.manual,
    ],
    campaigns: campaigns.map((c) => ({
      id: c.id,
      channelType: c.channelType,
      takesIpExclusions: (CAMPAIGN_IP_CHANNELS as readonly string[]).includes(c.channelType),
    })),
  };
  return { plan, account };
}

/**
 * Placements: clicksieve's account-level placement exclusions follow the low-quality list (no cap
 * problem: at most MAX_PLACEMENT_EXCLUSIONS); the advertiser's own ones are left alone and not re-added.
 */
function planPlacements(
  low: readonly LowQualityPlacement[],
  owned: readonly OwnedExclusion[],
  present: readonly { value: string; resourceName: string }[] | undefined,
  suppressed: ReadonlySet<string>,
) {
  const presentNames = present ? new Set(present.map((p) => p.resourceName)) : undefined;
  const live = presentNames ? owned.filter((o) => presentNames.has(o.resourceName)) : owned;
  const liveValues = new Set(live.map((o) => o.value));
  const ownedNames = new Set(owned.map((o) => o.resourceName));
  const manualPlacements = (present ?? []).filter((p) => !ownedNames.has(p.resourceName));
  const manualValues = new Set(manualPlacements.map((p) => p.value));
  const wanted = new Map(low.filter((p) => !suppressed.has(p.placement)).map((p) => [p.placement, p]));
  const add: PlannedChange[] = [...wanted.values()]
    .filter((p) => !liveValues.has(p.placement) && !manualValues.has(p.placement))
    .map((p) => ({ value: p.placement, level: 'account', kind: 'placement', reason: p.reason }));
  const remove: PlannedChange[] = live
    .filter((o) => !wanted.has(o.value))
    .map((o) => ({
      value: o.value,
      level: 'account',
      kind: 'placement',
      resourceName: o.resourceName,
      reason: suppressed.has(o.value) ? 'taken back by the advertiser' : 'no longer judged low quality',
    }));
  return {
    add,
    remove,
    kept: live.length,
    manual: manualPlacements.map((p) => ({ value: p.value, level: 'account' as const, kind: 'placement' as const })),
  };
}

interface FailedChange {
  readonly value: string;
  readonly level: ExclusionLevel;
  readonly campaignId?: string;
  readonly error: string;
  readonly attempts: number;
}

export interface RunReport {
  readonly runId: string;
  readonly mode: PushMode;
  readonly added: number;
  readonly removed: number;
  readonly failed: FailedChange[];
  readonly plan: ExclusionPlan;
}

/**
 * One push for one property: the plan, then — only in `apply` mode with a reachable account — removals
 * (which make room) before additions, each batch with partial failure, retried with exponential backoff
 * for the criteria that failed retryably. Every change lands in the ledger and the change log with the
 * run id; monitor-only and dry-run record one `dry_run` log line with the counts and change nothing.
 * In `apply` mode a linked account that cannot be read (no or unreadable credentials, refused authentication,
 * network) throws AdAccountUnavailable: nothing is changed, and the caller learns why instead of a silent no-op.
 */
export async function runExclusions(
  deps: ExclusionDeps,
  property: { propertyId: string; config: EffectiveConfig },
  runId: string = randomUUID(),
): Promise<RunReport> {
  const { plan, account } = await drawPlan(deps, property);
  const { propertyId } = property;
  const at = new Date(deps.now).toISOString();
  const report = { runId, mode: plan.mode, plan };
  if (plan.mode === 'not_linked' || plan.mode === 'link_disabled')
    return { ...report, added: 0, removed: 0, failed: [] };
  if (plan.mode !== 'apply') {
    await deps.ledger.appendLog(propertyId, [
      {
        at,
        runId,
        action: 'dry_run',
        reason: `${plan.mode}: would add ${plan.add.length}, remove ${plan.remove.length}`,
      },
    ]);
    logger.info('exclusion plan recorded without changes', {
      propertyId,
      runId,
      mode: plan.mode,
      add: plan.add.length,
      remove: plan.remove.length,
    });
    return { ...report, added: 0, removed: 0, failed: [] };
  }
  if (!account) throw new AdAccountUnavailable(plan.accountProblem ?? 'unreachable');
  const failed: FailedChange[] = [];
  let removed = 0;
  let added = 0;
  for (const [key, changes] of groupByTarget(plan.remove)) {
    const [level, campaignId] = key;
    // Removals go through the same service for both kinds (a criterion's resource name says what it is).
    const outcomes = await withRetry(deps, changes, (batch) =>
      account.removeIpExclusions(
        level,
        batch.map((c) => ({ value: c.value, resourceName: c.resourceName ?? '' })),
      ),
    );
    for (const { change, outcome, attempts } of outcomes) {
      if (outcome.error && outcome.error !== 'RESOURCE_NOT_FOUND') {
        failed.push(definedOnly({ value: change.value, level, campaignId, error: outcome.error, attempts }));
        continue;
      }
      removed++;
      await deps.ledger.deleteOwned(propertyId, change);
      await deps.ledger.appendLog(propertyId, [logLine(at, runId, 'removed', change)]);
    }
  }
  for (const [key, changes] of groupByTarget(plan.add)) {
    const [level, campaignId, kind] = key;
    const outcomes = await withRetry(deps, changes, (batch) =>
      kind === 'placement'
        ? account.addPlacementExclusions(batch.map((c) => c.value))
        : account.addIpExclusions(
            level,
            campaignId,
            batch.map((c) => c.value),
          ),
    );
    for (const { change, outcome, attempts } of outcomes) {
      if (!outcome.resourceName) {
        failed.push(
          definedOnly({ value: change.value, level, campaignId, error: outcome.error ?? 'UNKNOWN', attempts }),
        );
        await deps.ledger.appendLog(propertyId, [{ ...logLine(at, runId, 'failed', change), error: outcome.error }]);
        continue;
      }
      added++;
      const owned: OwnedExclusion = definedOnly({
        value: change.value,
        level,
        campaignId,
        resourceName: outcome.resourceName,
        reason: change.reason,
        addedAt: at,
        runId,
        kind,
      });
      await deps.ledger.putOwned(propertyId, owned);
      await deps.ledger.appendLog(propertyId, [logLine(at, runId, 'added', change)]);
    }
  }
  logger.info('exclusions pushed', { propertyId, runId, added, removed, failed: failed.length });
  return { ...report, added, removed, failed };
}

const logLine = (at: string, runId: string, action: ChangeLogEntry['action'], change: PlannedChange): ChangeLogEntry =>
  definedOnly({
    at,
    runId,
    action,
    value: change.value,
    level: change.level,
    campaignId: change.campaignId,
    kind: change.kind,
    reason: change.reason,
  });

type TargetKey = [ExclusionLevel, string | undefined, 'placement' | undefined];

function groupByTarget(changes: readonly PlannedChange[]): Map<TargetKey, PlannedChange[]> {
  const byKey = new Map<string, { key: TargetKey; changes: PlannedChange[] }>();
  for (const change of changes) {
    const id = `${change.level}#${change.campaignId ?? ''}#${change.kind ?? 'ip'}`;
    const group = byKey.get(id) ?? { key: [change.level, change.campaignId, change.kind], changes: [] };
    group.changes.push(change);
    byKey.set(id, group);
  }
  return new Map([...byKey.values()].map((g) => [g.key, g.changes]));
}

/**
 * Sends the batch; criteria that failed retryably (or the whole call, when it threw) are sent again after
 * FIRST_BACKOFF_MS, doubling, up to MAX_ATTEMPTS. The last outcome of each criterion is kept.
 */
async function withRetry(
  deps: ExclusionDeps,
  changes: readonly PlannedChange[],
  send: (batch: readonly PlannedChange[]) => Promise<CriterionOutcome[]>,
) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const results = new Map<PlannedChange, { outcome: CriterionOutcome; attempts: number }>();
  let pending = [...changes];
  for (let attempt = 1; pending.length > 0; attempt++) {
    let outcomes: CriterionOutcome[];
    try {
      outcomes = await send(pending);
    } catch (error) {
      // The whole call failed outside Google Ads' own answer (network, refused credentials): say which, not how.
      const problem = accountProblemOf(error);
      outcomes = pending.map((c) => ({
        value: c.value,
        error: problem.toUpperCase(),
        retryable: problem === 'unreachable',
      }));
    }
    const again: PlannedChange[] = [];
    pending.forEach((change, i) => {
      const outcome = outcomes[i] ?? { value: change.value, error: 'NO_RESULT', retryable: true };
      results.set(change, { outcome, attempts: attempt });
      if (outcome.error && outcome.retryable && attempt < MAX_ATTEMPTS) again.push(change);
    });
    pending = again;
    if (pending.length > 0) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
  }
  return changes.map((change) => ({ change, ...results.get(change)! }));
}
