import * as z from 'zod';
import { isPlacementUrl } from '../googleAds/placements';
import { MICROSOFT_MAX_IP_EXCLUSIONS } from '../googleAds/selection';
import { parseRange } from '../properties/config';

const Level = z.enum(['account', 'campaign']);
const Kind = z.literal('placement').optional();
/** An IPv4/IPv6 address or CIDR range (canonical form), or a placement URL (lower case). */
const ExcludedValue = z
  .string()
  .max(250)
  .transform((value, ctx) => {
    const canonical =
      parseRange(value.trim()) ?? (isPlacementUrl(value.trim()) ? value.trim().toLowerCase() : undefined);
    if (!canonical) {
      ctx.addIssue({ code: 'custom', message: 'must be an IPv4/IPv6 address, a CIDR range or a placement URL' });
      return z.NEVER;
    }
    return canonical;
  });
/** Why a linked ad account could not be used (shared/googleAds/accountAccess.ts). */
const AccountProblem = z.enum([
  'credentials_not_configured',
  'credentials_unreadable',
  'authentication_failed',
  'unreachable',
]);
const RunId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a run id from the change log');

const Change = z.object({
  value: z.string(),
  level: Level,
  kind: Kind,
  campaignId: z.string().optional(),
  reason: z.string(),
  score: z.number().optional(),
  lastSeen: z.string().optional(),
  /** Clicks from the address (a range: its bad members' sum) since its record started: the ranking's volume. */
  clicks: z.number().int().optional(),
  collapsed: z.array(z.string()).optional(),
  resourceName: z.string().optional(),
});

export const ExclusionPlan = z
  .object({
    propertyId: z.string(),
    generatedAt: z.string(),
    mode: z.enum(['apply', 'monitor_only', 'dry_run', 'not_linked', 'link_disabled']),
    accountState: z.enum(['known', 'unknown']),
    accountStateNote: z.string().optional(),
    accountProblem: AccountProblem.optional(),
    add: z.array(Change),
    remove: z.array(Change),
    unchanged: z.number().int(),
    collapsed: z.array(z.object({ range: z.string(), addresses: z.array(z.string()) })),
    leftOut: z.array(
      z.object({
        value: z.string(),
        score: z.number(),
        lastSeen: z.string(),
        clicks: z.number().int(),
        reason: z.string(),
        why: z.literal('no room'),
        collapsed: z.array(z.string()).optional(),
      }),
    ),
    room: z.object({ account: z.number().int(), campaign: z.number().int() }),
    manual: z.array(z.object({ value: z.string(), level: Level, campaignId: z.string().optional(), kind: Kind })),
    campaigns: z.array(z.object({ id: z.string(), channelType: z.string(), takesIpExclusions: z.boolean() })),
  })
  .meta({ id: 'ExclusionPlan' });

const LogEntry = z.object({
  at: z.string(),
  runId: z.string(),
  action: z.enum(['added', 'removed', 'failed', 'dry_run']),
  value: z.string().optional(),
  level: Level.optional(),
  campaignId: z.string().optional(),
  kind: Kind,
  reason: z.string(),
  error: z.string().optional(),
});

export const ExclusionsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) });

export const Exclusions = z
  .object({
    accountState: z.enum(['known', 'unknown']),
    accountStateNote: z.string().optional(),
    accountProblem: AccountProblem.optional(),
    excluded: z.array(
      z.object({
        value: z.string(),
        level: Level,
        campaignId: z.string().optional(),
        kind: Kind,
        by: z.enum(['clicksieve', 'advertiser']),
        reason: z.string().optional(),
        addedAt: z.string().optional(),
        runId: z.string().optional(),
      }),
    ),
    takenBack: z.array(z.string()),
    changeLog: z.array(LogEntry),
  })
  .meta({ id: 'Exclusions' });

export const DeleteExclusionQuery = z
  .object({ value: ExcludedValue.optional(), runId: RunId.optional() })
  .refine((q) => (q.value === undefined) !== (q.runId === undefined), 'give exactly one of value and runId');

export const AllowExclusionQuery = z.object({ value: ExcludedValue });

export const ExclusionsTakenBack = z
  .object({
    removed: z.array(z.object({ value: z.string(), level: Level, campaignId: z.string().optional(), kind: Kind })),
    takenBack: z.array(z.string()),
    /** Removals the account refused or could not be reached for: the next push retries them. */
    pending: z.array(z.object({ value: z.string(), level: Level, campaignId: z.string().optional(), kind: Kind })),
    /** Set when removals are pending because the account could not be used. */
    accountProblem: AccountProblem.optional(),
  })
  .meta({ id: 'ExclusionsTakenBack' });

export const ExclusionRunReport = z
  .object({
    runId: z.string(),
    mode: z.enum(['apply', 'monitor_only', 'dry_run', 'not_linked', 'link_disabled']),
    added: z.number().int(),
    removed: z.number().int(),
    failed: z.array(
      z.object({
        value: z.string(),
        level: Level,
        campaignId: z.string().optional(),
        error: z.string(),
        attempts: z.number().int(),
      }),
    ),
    plan: ExclusionPlan,
  })
  .meta({ id: 'ExclusionRunReport' });

/**
 * `GET …/exclusions/microsoft.csv`: a Microsoft Advertising campaign id (a long) to fill the `Campaign Id` column;
 * `limit` entries at most (Microsoft takes 100 IP exclusions per campaign, the advertiser's own included).
 */
export const MicrosoftExclusionsQuery = z.object({
  campaignId: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, 'must be a Microsoft Advertising campaign id (digits)')
    .optional(),
  limit: z.coerce.number().int().min(1).max(MICROSOFT_MAX_IP_EXCLUSIONS).default(MICROSOFT_MAX_IP_EXCLUSIONS),
});
