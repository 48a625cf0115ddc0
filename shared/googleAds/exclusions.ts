import type { BlocklistEntry } from '../reporting/blocklist';

/** Google Ads accepts at most 500 IP exclusions per campaign. */
export const MAX_IP_EXCLUSIONS_PER_CAMPAIGN = 500;

export interface CurrentExclusion {
  readonly ip: string;
  /** The campaign criterion's resource name, needed to remove it. */
  readonly resourceName: string;
}

/** Where IP exclusions live: Google Ads campaigns in the service, a fake in tests. */
export interface AdsExclusionTarget {
  /** The account's enabled campaigns that take IP exclusions (for a link that names no campaigns). */
  listCampaignIds(): Promise<string[]>;
  listIpExclusions(campaignId: string): Promise<CurrentExclusion[]>;
  addIpExclusions(campaignId: string, ips: readonly string[]): Promise<void>;
  removeIpExclusions(campaignId: string, resourceNames: readonly string[]): Promise<void>;
}

export interface ExclusionPlan {
  readonly add: string[];
  readonly remove: string[];
}

/**
 * What to change in one campaign so its exclusions become the blocklist's highest-scoring addresses
 * (the list is already ordered highest first), at most `limit`: removals first make room for additions.
 */
export function planExclusions(
  current: readonly CurrentExclusion[],
  blocklist: readonly BlocklistEntry[],
  limit = MAX_IP_EXCLUSIONS_PER_CAMPAIGN,
): ExclusionPlan {
  const wanted = new Set<string>();
  for (const entry of blocklist) {
    if (wanted.size >= limit) break;
    wanted.add(entry.ip);
  }
  const present = new Set(current.map((c) => c.ip));
  return {
    add: [...wanted].filter((ip) => !present.has(ip)),
    remove: current.filter((c) => !wanted.has(c.ip)).map((c) => c.resourceName),
  };
}

/** Applies the plan to one campaign; returns the plan for the log. */
export async function syncCampaign(
  target: AdsExclusionTarget,
  campaignId: string,
  blocklist: readonly BlocklistEntry[],
): Promise<ExclusionPlan> {
  const plan = planExclusions(await target.listIpExclusions(campaignId), blocklist);
  if (plan.remove.length > 0) await target.removeIpExclusions(campaignId, plan.remove);
  if (plan.add.length > 0) await target.addIpExclusions(campaignId, plan.add);
  return plan;
}
