import { isIPv4 } from 'node:net';
import type { EffectiveConfig } from '../properties/config';
import { RISKY_FLOOR } from '../store/ipReputation';
import type { ExclusionDeps } from './exclusionRun';
import { bySeverity, MICROSOFT_MAX_IP_EXCLUSIONS, type Selection, selectExclusions } from './selection';

/**
 * Microsoft Advertising: the same selection as the Google Ads push, as a file the advertiser pastes in.
 *
 * What Microsoft documents (MicrosoftDocs/Advertising, read 2026-11-30 at commit a21125df):
 * - msa-help/hlp_BA_PROC_AddExclusions.md ("How to prevent your ads from showing to certain people",
 *   https://github.com/MicrosoftDocs/Advertising/blob/main/advertising/msa-help/hlp_BA_PROC_AddExclusions.md):
 *   IP exclusions are set at campaign level only (not ad group), at most 100 IP addresses or ranges per campaign,
 *   IPv4 only, all four octets, and only the last octet may be the wildcard `*` (`127.0.0.*` = .0 to .255); they are
 *   entered in the web application (Campaigns → select → Edit → Other changes → Campaign settings: IP address
 *   exclusions), one per line;
 * - msa-help/hlp_BA_CONC_AboutAccts.md: "100 IP exclusions" per campaign; hlp_BA_CONC_ImportWhatInfo.md: IP exclusions
 *   are not taken over by the Google Ads import;
 * - the Bing Ads API v13 (bingads-13/bulk-service, campaign-management-service) has no IP-exclusion record or
 *   criterion; its change-history report names IP exclusions as made "via the Microsoft Advertising web application".
 *   So there is no API to push them to, and no bulk record to write.
 * Hence: the Google selection drawn again for Microsoft's rules (IPv4 only, MICROSOFT_MAX_IP_EXCLUSIONS per campaign,
 * no account level), a collapsed /24 written as `a.b.c.*`, at most `limit` rows best first.
 */
export const MICROSOFT_CSV_HEADER = [
  'IP address',
  'Campaign Id',
  'Score',
  'Clicks',
  'Last seen (UTC)',
  'Reason',
] as const;

interface MicrosoftExclusionRow {
  /** An IPv4 address, or a /24 as `a.b.c.*` (Microsoft's only range syntax). */
  readonly ip: string;
  readonly score: number;
  readonly clicks: number;
  /** Epoch ms of the latest bad click. */
  readonly lastSeen: number;
  readonly reason: string;
}

/** `192.0.2.0/24` → `192.0.2.*`; an address as it is. The selection collapses IPv4 only into /24s. */
export function microsoftEntry(value: string): string {
  return value.endsWith('.0/24') ? `${value.slice(0, -'.0/24'.length)}.*` : value;
}

/** The selection's entries, best first, in Microsoft's syntax, at most `limit`. */
export function microsoftExclusionRows(selection: Selection, limit: number): MicrosoftExclusionRow[] {
  return selection.selected.slice(0, limit).map((s) => ({
    ip: microsoftEntry(s.value),
    score: s.score,
    clicks: s.clicks,
    lastSeen: s.lastSeen,
    reason: s.reason,
  }));
}

/** One CSV cell: RFC 4180 quoting, and a leading formula character defused for spreadsheets. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function microsoftExclusionsCsv(rows: readonly MicrosoftExclusionRow[], campaignId?: string): string {
  const lines = [MICROSOFT_CSV_HEADER.join(',')];
  for (const row of rows)
    lines.push(
      [
        row.ip,
        campaignId ?? '',
        String(row.score),
        String(row.clicks),
        new Date(row.lastSeen).toISOString(),
        row.reason,
      ]
        .map(cell)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Reads the property's bad and suspicious IPv4 addresses of the expiry window and what it took back, then
 * writes the file for one campaign: at most `limit` (≤ MICROSOFT_MAX_IP_EXCLUSIONS) entries.
 */
export async function microsoftExclusionsFile(
  deps: Pick<ExclusionDeps, 'ipReputation' | 'ledger' | 'now'>,
  property: { propertyId: string; config: EffectiveConfig },
  options: { campaignId?: string | undefined; limit: number },
): Promise<{ csv: string; rows: number }> {
  const { propertyId, config } = property;
  const limit = Math.min(options.limit, MICROSOFT_MAX_IP_EXCLUSIONS);
  const [risky, suppressed] = await Promise.all([
    deps.ipReputation.riskyIps(propertyId, deps.now - config.exclusionExpiryDays * 86_400_000, RISKY_FLOOR),
    deps.ledger.suppressed(propertyId),
  ]);
  // Microsoft takes IPv4 only: IPv6 addresses are left out (the Google Ads push still covers them).
  const ipv4 = risky.filter((r) => isIPv4(r.ip));
  const selection = selectExclusions({
    ...bySeverity(ipv4, config.thresholds.fraud),
    allowlist: config.allowlist,
    suppressed,
    now: deps.now,
    room: { account: 0, campaign: limit },
  });
  const rows = microsoftExclusionRows(selection, limit);
  return { csv: microsoftExclusionsCsv(rows, options.campaignId), rows: rows.length };
}
