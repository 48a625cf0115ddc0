import ipaddr from 'ipaddr.js';
import type { IpReputation } from '../store/ipReputation';

/**
 * Campaign types that take campaign-level IP exclusions (IpBlockInfo as a negative CampaignCriterion).
 * Performance Max takes none: only the account-level list (CustomerNegativeCriterion.ip_block) reaches it.
 */
export const CAMPAIGN_IP_CHANNELS = ['SEARCH', 'DISPLAY', 'SHOPPING', 'VIDEO'] as const;

/** Google Ads: at most 500 IP exclusions per campaign (IpBlockInfo) and 500 at account level (CustomerNegativeCriterion). */
export const MAX_IP_EXCLUSIONS_PER_CAMPAIGN = 500;
export const MAX_IP_EXCLUSIONS_PER_ACCOUNT = 500;
/** Microsoft Advertising: at most 100 IP exclusions (addresses or `a.b.c.*` ranges) per campaign (see microsoftAds.ts). */
export const MICROSOFT_MAX_IP_EXCLUSIONS = 100;
/** Addresses of one /24 (IPv4) or /64 (IPv6) collapsed into the range once at least this many are bad. */
const COLLAPSE_MIN_ADDRESSES = 3;
const COLLAPSE_BITS = { ipv4: 24, ipv6: 64 } as const;

export type ExclusionLevel = 'account' | 'campaign';

/** One address or range the engine wants excluded, best first. */
interface ExclusionCandidate {
  /** An address or a CIDR range, as Google Ads takes it in `ip_block.ip_address`. */
  readonly value: string;
  readonly score: number;
  /** Epoch ms of the latest click from it. */
  readonly lastSeen: number;
  /** Clicks from it since its record started (a range: its members' sum). */
  readonly clicks: number;
  /** The rule behind the score, then the click count: `datacenter_ip (12 clicks)`. */
  readonly reason: string;
  /** For a range: the bad addresses it replaces. */
  readonly collapsed?: readonly string[];
}

interface SelectedExclusion extends ExclusionCandidate {
  readonly level: ExclusionLevel;
}

export interface LeftOut extends ExclusionCandidate {
  readonly why: 'no room';
}

export interface CollapsedRange {
  readonly range: string;
  readonly addresses: readonly string[];
}

export interface SelectionInput {
  /** Addresses at or above the property's fraud threshold within the exclusion window. */
  readonly bad: readonly IpReputation[];
  /** Known addresses below the threshold (suspicious ones): a range never covers one of them. */
  readonly neighbours: readonly IpReputation[];
  readonly allowlist: readonly string[];
  /** Addresses and ranges the advertiser took back (DELETE): never excluded again until allowed. */
  readonly suppressed: ReadonlySet<string>;
  /** Free slots at each level for clicksieve: the cap minus the advertiser's own exclusions there. */
  readonly room: { readonly account: number; readonly campaign: number };
  /** Epoch ms the ranking's recency is measured from. */
  readonly now: number;
}

export interface Selection {
  readonly selected: SelectedExclusion[];
  readonly collapsed: CollapsedRange[];
  readonly leftOut: LeftOut[];
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

function parseAddress(ip: string): Parsed | undefined {
  if (!ipaddr.isValid(ip)) return undefined;
  const parsed = ipaddr.parse(ip);
  return parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;
}

/** The /24 or /64 an address lies in, as CIDR text. */
export function collapseRangeOf(ip: string): string | undefined {
  const address = parseAddress(ip);
  if (!address) return undefined;
  const bits = COLLAPSE_BITS[address.kind()];
  const base =
    address instanceof ipaddr.IPv4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
  return `${base.toString()}/${bits}`;
}

function parseEntry(entry: string): [Parsed, number] | undefined {
  try {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const address = parseAddress(entry);
    return address ? [address, address.kind() === 'ipv4' ? 32 : 128] : undefined;
  } catch {
    return undefined;
  }
}

/** True when the two address ranges share at least one address. */
function rangesOverlap(a: string, b: string): boolean {
  const left = parseEntry(a);
  const right = parseEntry(b);
  if (!left || !right || left[0].kind() !== right[0].kind()) return false;
  const wider = left[1] <= right[1] ? left : right;
  const narrower = wider === left ? right : left;
  return narrower[0].match(wider as [never, number]);
}

/** The recency weight halves every this many days without a bad click. */
export const RECENCY_HALF_LIFE_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * How much excluding an address (or range) is worth, for ranking within the caps:
 *
 *   priority = score/100 × (1 + log10(clicks)) × 0.5^(days since its last click / RECENCY_HALF_LIFE_DAYS)
 *
 * the score is how sure the engine is; the clicks are what it costs (logarithmic: 10 clicks weigh twice a
 * single one, 100 three times, so a flood cannot outrank certainty by much); the recency decay spends slots
 * on addresses still clicking rather than on ones that went quiet. At equal score and recency, volume decides.
 */
export function exclusionPriority(
  candidate: Pick<ExclusionCandidate, 'score' | 'clicks' | 'lastSeen'>,
  now: number,
): number {
  const days = Math.max(0, now - candidate.lastSeen) / DAY_MS;
  const volume = 1 + Math.log10(Math.max(1, candidate.clicks));
  return (candidate.score / 100) * volume * 0.5 ** (days / RECENCY_HALF_LIFE_DAYS);
}

const clickCount = (clicks: number) => `${clicks} click${clicks === 1 ? '' : 's'}`;

const byRank = (now: number) => (a: ExclusionCandidate, b: ExclusionCandidate) =>
  exclusionPriority(b, now) - exclusionPriority(a, now) ||
  b.score - a.score ||
  b.lastSeen - a.lastSeen ||
  (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/**
 * What clicksieve should hold in the ad account: the bad addresses ranked by exclusionPriority (score,
 * volume, recency),
 * with several of one /24 (/64) collapsed into the range when that saves room and nothing allowlisted,
 * taken back by the advertiser or merely suspicious lies inside it; the account level filled first
 * (it also covers Performance Max), the campaign level (same list in every campaign) with the rest,
 * and what fits nowhere reported as left out.
 */
/** The selection's two inputs from one list of address records: at or above the fraud threshold, and below it. */
export function bySeverity(
  risky: readonly IpReputation[],
  fraudThreshold: number,
): Pick<SelectionInput, 'bad' | 'neighbours'> {
  return {
    bad: risky.filter((r) => r.score >= fraudThreshold),
    neighbours: risky.filter((r) => r.score < fraudThreshold),
  };
}

export function selectExclusions(input: SelectionInput): Selection {
  const allowed = (value: string) => !input.allowlist.some((entry) => rangesOverlap(entry, value));
  const eligible = input.bad.filter((r) => !input.suppressed.has(r.ip) && allowed(r.ip));
  const groups = new Map<string, IpReputation[]>();
  for (const record of eligible) {
    const range = collapseRangeOf(record.ip);
    if (!range) continue;
    groups.set(range, [...(groups.get(range) ?? []), record]);
  }
  const candidates: ExclusionCandidate[] = [];
  const collapsed: CollapsedRange[] = [];
  for (const [range, members] of groups) {
    const collapsible =
      members.length >= COLLAPSE_MIN_ADDRESSES &&
      !input.suppressed.has(range) &&
      allowed(range) &&
      ![...input.suppressed].some((value) => rangesOverlap(value, range)) &&
      !input.neighbours.some((n) => rangesOverlap(n.ip, range));
    if (!collapsible) {
      for (const r of members)
        candidates.push({
          value: r.ip,
          score: r.score,
          lastSeen: r.lastSeen,
          clicks: r.clicks,
          reason: `${r.reason} (${clickCount(r.clicks)})`,
        });
      continue;
    }
    const addresses = members.map((r) => r.ip).sort();
    const top = [...members].sort((a, b) => b.score - a.score || b.lastSeen - a.lastSeen)[0]!;
    const clicks = members.reduce((sum, r) => sum + r.clicks, 0);
    candidates.push({
      value: range,
      score: top.score,
      lastSeen: Math.max(...members.map((r) => r.lastSeen)),
      clicks,
      reason: `${members.length} bad addresses in ${range} (${clickCount(clicks)}); top: ${top.reason}`,
      collapsed: addresses,
    });
    collapsed.push({ range, addresses });
  }
  candidates.sort(byRank(input.now));
  const accountRoom = Math.max(0, input.room.account);
  const campaignRoom = Math.max(0, input.room.campaign);
  const selected: SelectedExclusion[] = [];
  const leftOut: LeftOut[] = [];
  candidates.forEach((candidate, i) => {
    if (i < accountRoom) selected.push({ ...candidate, level: 'account' });
    else if (i < accountRoom + campaignRoom) selected.push({ ...candidate, level: 'campaign' });
    else leftOut.push({ ...candidate, why: 'no room' });
  });
  return { selected, collapsed: collapsed.sort((a, b) => (a.range < b.range ? -1 : 1)), leftOut };
}
