import { stringify } from 'csv-stringify/sync';
import { compileAllowlist } from '../scoring/allowlist';
import type { IpReputation, IpReputationStore } from '../store/ipReputation';

interface BlocklistEntry {
  readonly ip: string;
  readonly score: number;
  /** ISO time. */
  readonly lastSeen: string;
  readonly reason: string;
}

interface BlocklistPolicy {
  /** The property's block threshold (config `thresholds.fraud`). */
  readonly threshold: number;
  readonly allowlist: readonly string[];
  readonly sinceMs: number;
}

/** Highest score first, then most recently seen, then address: what an ad account should exclude first. */
export function buildBlocklist(records: readonly IpReputation[], policy: BlocklistPolicy): BlocklistEntry[] {
  const allowed = compileAllowlist(policy.allowlist);
  return records
    .filter((r) => r.score >= policy.threshold && r.lastSeen >= policy.sinceMs && !allowed.has(r.ip))
    .sort((a, b) => b.score - a.score || b.lastSeen - a.lastSeen || (a.ip < b.ip ? -1 : 1))
    .map((r) => ({ ip: r.ip, score: r.score, lastSeen: new Date(r.lastSeen).toISOString(), reason: r.reason }));
}

export async function readBlocklist(store: IpReputationStore, propertyId: string, policy: BlocklistPolicy) {
  return buildBlocklist(await store.riskyIps(propertyId, policy.sinceMs, policy.threshold), policy);
}

const BLOCKLIST_CSV_COLUMNS = ['ip', 'score', 'lastSeen', 'reason'] as const;

export function blocklistCsv(entries: readonly BlocklistEntry[]): string {
  return stringify(entries as BlocklistEntry[], { header: true, columns: [...BLOCKLIST_CSV_COLUMNS] });
}
