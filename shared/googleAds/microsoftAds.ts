import { RISKY_FLOOR } from '../decisions/ipReputation';
import type { EffectiveConfig } from '../properties/config';
import type { ExclusionDeps } from './exclusionRun';
import { type Selection, selectExclusions } from './selection';

/**
 * Microsoft Advertising: the same selection as the Google Ads push, as a file the advertiser imports.
 *
 * What its documentation says (MicrosoftDocs/Advertising, Bing Ads API v13, read 2026-11-30):
 * - neither the Bulk service (`bulk-service/*.md`: records such as `Campaign Negative Site`, `Campaign Negative
 *   Location Criterion`, each file opening with a `Format Version` row) nor the Campaign Management service has
 *   an IP-exclusion entity or criterion, so there is no bulk record to write and no API call to push them;
 * - the reporting service's change-history columns (`reporting-service/searchcampaignchangehistoryreportcolumn.md`)
 *   name "IP exclusion" as made "via the Microsoft Advertising web application", and its training material
 *   ("Campaign exclusions", about.ads.microsoft.com) sets IP exclusions at campaign or ad group level;
 * - none of these pages states a CIDR or wildcard syntax, or a per-campaign cap, for IP exclusions.
 * Hence: a plain CSV whose first column is one address per row, to paste into a campaign's (or ad group's)
 * IP exclusions in the web application or in Microsoft Advertising Editor; every row at campaign level (no
 * account-level list is documented); a range the Google selection collapsed is written as its bad member
 * addresses, since a range syntax Microsoft accepts is not documented; at most `limit` rows, best first.
 */
export const MICROSOFT_MAX_ROWS = 500;
export const MICROSOFT_CSV_HEADER = ['IP address', 'Campaign Id', 'Score', 'Last seen (UTC)', 'Reason'] as const;

export interface MicrosoftExclusionRow {
  readonly ip: string;
  readonly score: number;
  /** Epoch ms of the latest bad click. */
  readonly lastSeen: number;
  readonly reason: string;
}

/** The selection's addresses, best first, ranges written as their bad member addresses, at most `limit`. */
export function microsoftExclusionRows(selection: Selection, limit: number): MicrosoftExclusionRow[] {
  const rows: MicrosoftExclusionRow[] = [];
  const seen = new Set<string>();
  for (const s of selection.selected) {
    for (const ip of s.collapsed ?? [s.value]) {
      if (rows.length >= limit || seen.has(ip)) continue;
      seen.add(ip);
      rows.push({ ip, score: s.score, lastSeen: s.lastSeen, reason: s.reason });
    }
  }
  return rows;
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
      [row.ip, campaignId ?? '', String(row.score), new Date(row.lastSeen).toISOString(), row.reason]
        .map(cell)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}

/** Reads the property's bad and suspicious addresses of the expiry window and what it took back, then writes the file. */
export async function microsoftExclusionsFile(
  deps: Pick<ExclusionDeps, 'ipReputation' | 'ledger' | 'now'>,
  property: { propertyId: string; config: EffectiveConfig },
  options: { campaignId?: string; limit: number },
): Promise<{ csv: string; rows: number }> {
  const { propertyId, config } = property;
  const [risky, suppressed] = await Promise.all([
    deps.ipReputation.riskyIps(propertyId, deps.now - config.exclusionExpiryDays * 86_400_000, RISKY_FLOOR),
    deps.ledger.suppressed(propertyId),
  ]);
  const selection = selectExclusions({
    bad: risky.filter((r) => r.score >= config.thresholds.fraud),
    neighbours: risky.filter((r) => r.score < config.thresholds.fraud),
    allowlist: config.allowlist,
    suppressed,
    room: { account: 0, campaign: options.limit },
  });
  const rows = microsoftExclusionRows(selection, options.limit);
  return { csv: microsoftExclusionsCsv(rows, options.campaignId), rows: rows.length };
}
