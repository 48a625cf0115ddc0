import type { EffectiveConfig } from '../properties/config';
import { parseRange } from '../properties/config';
import { readBlocklist } from '../reporting/blocklist';
import type { ClickStore, StoredClick } from '../store/clicks';
import type { IpReputationStore } from '../store/ipReputation';

const DAY_MS = 86_400_000;
/** Most clicks one gclid/visitor/address search reads; past it the answer says `truncated`. */
const MAX_SCANNED_CLICKS = 20_000;
/** Most matching clicks returned, newest first. */
const MAX_MATCHES = 50;

export type ClickQuery =
  | { readonly clickId: string }
  | { readonly gclid: string; readonly days: number }
  | { readonly visitorId: string; readonly days: number }
  | { readonly ip: string; readonly days: number };

interface ExplorerDeps {
  readonly clicks: ClickStore;
  readonly ipReputation: IpReputationStore;
}

/**
 * Finds a property's clicks and explains each one. A click id is one read (another property's click is
 * simply not found); a gclid, visitor or address reads the property's clicks of the last `days` days
 * (at most MAX_SCANNED_CLICKS) — the dashboard's search, not a hot path, so no index is kept for it.
 */
export async function findClicks(
  deps: ExplorerDeps,
  propertyId: string,
  config: EffectiveConfig,
  query: ClickQuery,
  nowMs: number,
) {
  const found: StoredClick[] = [];
  let scanned = 0;
  let truncated = false;
  if ('clickId' in query) {
    const click = await deps.clicks.getClick(query.clickId);
    scanned = 1;
    if (click && click.propertyId === propertyId) found.push(click);
  } else {
    const matches = matcher(query);
    for await (const click of deps.clicks.clicksInRange(propertyId, nowMs - query.days * DAY_MS, nowMs + 1)) {
      if (scanned >= MAX_SCANNED_CLICKS) {
        truncated = true;
        break;
      }
      scanned++;
      if (!matches(click)) continue;
      found.push(click);
      if (found.length > MAX_MATCHES) found.shift();
    }
    found.reverse();
  }
  const blocked = found.length === 0 ? new Set<string>() : await blocklistedIps(deps, propertyId, config, nowMs);
  return { clicks: found.map((click) => explainClick(click, config, blocked.has(click.ip))), scanned, truncated };
}

function matcher(query: Exclude<ClickQuery, { clickId: string }>): (click: StoredClick) => boolean {
  if ('gclid' in query) return (click) => click.gclid === query.gclid;
  if ('visitorId' in query) return (click) => click.visitorId === query.visitorId;
  const ip = parseRange(query.ip) ?? query.ip;
  return (click) => click.ip === ip || click.claimedIp === ip;
}

async function blocklistedIps(deps: ExplorerDeps, propertyId: string, config: EffectiveConfig, nowMs: number) {
  const entries = await readBlocklist(deps.ipReputation, propertyId, {
    threshold: config.thresholds.fraud,
    allowlist: config.allowlist,
    sinceMs: nowMs - 30 * DAY_MS,
  });
  return new Set(entries.map((entry) => entry.ip));
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function explainClick(click: StoredClick, config: EffectiveConfig, onBlocklist: boolean) {
  const link = config.adAccount;
  const adsExclusion = !link
    ? ('not_linked' as const)
    : !link.enabled
      ? ('link_disabled' as const)
      : onBlocklist
        ? ('pushed_hourly' as const)
        : ('not_on_blocklist' as const);
  return {
    clickId: click.clickId,
    at: new Date(click.at).toISOString(),
    visitorId: click.visitorId,
    ip: click.ip,
    claimedIp: click.claimedIp,
    gclid: click.gclid,
    userAgent: click.userAgent,
    pageUrl: click.pageUrl,
    referrer: click.referrer,
    valueTrack: { ...click.valueTrack } as Record<string, string>,
    atClick: click.atClick,
    final: click.current,
    reasons: click.reasons,
    signals: { click: click.signals?.click ?? [], behaviour: click.signals?.behaviour ?? [] },
    beacon: { received: click.beaconAt !== undefined, at: iso(click.beaconAt) },
    conversion: { converted: click.convertedAt !== undefined, at: iso(click.convertedAt) },
    done: {
      blocked: click.current.action === 'BLOCK' && !config.monitorOnly,
      monitorOnly: config.monitorOnly,
      onBlocklist,
      adsExclusion,
    },
  };
}
