import ipaddr from 'ipaddr.js';
import { ApiError, invalidRequest } from '../http/errors';
import type { BotAction, BotLevel } from '../model';
import { definedOnly } from '../optional';
import type { PropertyConfigInput } from '../schemas/properties';
import type { PropertyRecord, StoredConfig } from './model';

/** Score thresholds (../API.md: CLEAN 0–39, SUSPICIOUS 40–69, FRAUD 70–100) and bot actions by default. */
export const DEFAULT_CONFIG = {
  thresholds: { suspicious: 40, fraud: 70 },
  monitorOnly: false,
  allowlist: [] as string[],
  ruleWeights: {} as Record<string, number>,
  botActions: { low: 'record_only', medium: 'flag', high: 'flag', critical: 'challenge' } as Record<
    BotLevel,
    BotAction
  >,
  /** 13 months: a year of history plus the month it is compared with. */
  retentionDays: 396,
  exclusionDryRun: false,
  exclusionExpiryDays: 30,
  exclusionPlacements: true,
} as const;

export interface AdAccountLink {
  readonly provider: 'google_ads';
  readonly customerId: string;
  readonly loginCustomerId?: string;
  readonly campaignIds?: readonly string[];
  readonly enabled: boolean;
}

/** A property's configuration with every default filled in: what scoring and GET config use. */
export interface EffectiveConfig {
  readonly thresholds: { readonly suspicious: number; readonly fraud: number };
  readonly monitorOnly: boolean;
  readonly allowlist: readonly string[];
  readonly ruleWeights: Readonly<Record<string, number>>;
  readonly botActions: Readonly<Record<BotLevel, BotAction>>;
  readonly adAccount: AdAccountLink | null;
  readonly name: string;
  readonly domain?: string;
  readonly currency: string;
  readonly timezone: string;
  readonly plan: string;
  readonly retentionDays: number;
  readonly exclusionDryRun: boolean;
  readonly exclusionExpiryDays: number;
  readonly exclusionPlacements: boolean;
  /** Null when not set: no wasted-spend estimate is made. */
  readonly averageCpc?: number | null;
}

export function effectiveConfig(property: PropertyRecord): EffectiveConfig {
  const config = property.config;
  return {
    thresholds: config.thresholds ?? DEFAULT_CONFIG.thresholds,
    monitorOnly: config.monitorOnly ?? DEFAULT_CONFIG.monitorOnly,
    allowlist: config.allowlist ?? DEFAULT_CONFIG.allowlist,
    ruleWeights: config.ruleWeights ?? DEFAULT_CONFIG.ruleWeights,
    botActions: { ...DEFAULT_CONFIG.botActions, ...definedOnly(config.botActions ?? {}) },
    adAccount: (config.adAccount as AdAccountLink | null | undefined) ?? null,
    name: property.name,
    ...definedOnly({ domain: property.domain }),
    currency: property.currency,
    timezone: property.timezone,
    plan: property.plan,
    retentionDays: config.retentionDays ?? DEFAULT_CONFIG.retentionDays,
    exclusionDryRun: config.exclusionDryRun ?? DEFAULT_CONFIG.exclusionDryRun,
    exclusionExpiryDays: config.exclusionExpiryDays ?? DEFAULT_CONFIG.exclusionExpiryDays,
    exclusionPlacements: config.exclusionPlacements ?? DEFAULT_CONFIG.exclusionPlacements,
    averageCpc: (config.averageCpc as number | null | undefined) ?? null,
  };
}

/**
 * The config fields a PUT changes, each replacing the stored one: `adAccount: null` unlinks the ad
 * account, `botActions` merges level by level. Allowlist entries must be IP addresses or CIDR ranges
 * (400 naming `allowlist.N`). Fields absent from the request are not touched.
 */
export function configChanges(
  current: StoredConfig,
  input: PropertyConfigInput,
): Partial<Record<keyof StoredConfig, unknown>> {
  const changes: Partial<Record<keyof StoredConfig, unknown>> = {};
  if (input.thresholds !== undefined) changes.thresholds = input.thresholds;
  if (input.monitorOnly !== undefined) changes.monitorOnly = input.monitorOnly;
  if (input.allowlist !== undefined) changes.allowlist = normalizeAllowlist(input.allowlist);
  if (input.ruleWeights !== undefined) changes.ruleWeights = input.ruleWeights;
  if (input.botActions !== undefined) {
    changes.botActions = { ...definedOnly(current.botActions ?? {}), ...definedOnly(input.botActions) };
  }
  if (input.averageCpc !== undefined) changes.averageCpc = input.averageCpc === null ? undefined : input.averageCpc;
  if (input.adAccount !== undefined)
    changes.adAccount = input.adAccount === null ? undefined : definedOnly(input.adAccount);
  if (input.retentionDays !== undefined) changes.retentionDays = input.retentionDays;
  if (input.exclusionDryRun !== undefined) changes.exclusionDryRun = input.exclusionDryRun;
  if (input.exclusionExpiryDays !== undefined) changes.exclusionExpiryDays = input.exclusionExpiryDays;
  if (input.exclusionPlacements !== undefined) changes.exclusionPlacements = input.exclusionPlacements;
  return changes;
}

/** Google Ads customer ids are the same with or without dashes. */
const sameCustomerId = (a: string | undefined, b: string | undefined) => a?.replace(/-/g, '') === b?.replace(/-/g, '');

/**
 * The operator's settings a tenant's PUT would change: the plan, and the ad-account link (customer id,
 * login customer id; creating or removing the link). The tenant may read them, switch the push on and
 * off (`adAccount.enabled`) and choose `adAccount.campaignIds` by sending the link as it is.
 */
function operatorFieldsChanged(property: PropertyRecord, input: PropertyConfigInput): string[] {
  const fields: string[] = [];
  if (input.plan !== undefined && input.plan !== property.plan) fields.push('plan');
  if (input.adAccount === undefined) return fields;
  const current = property.config.adAccount ?? undefined;
  if (input.adAccount === null || !current) {
    if (input.adAccount !== null || current) fields.push('adAccount');
    return fields;
  }
  if (!sameCustomerId(input.adAccount.customerId, current.customerId)) fields.push('adAccount.customerId');
  if (!sameCustomerId(input.adAccount.loginCustomerId, current.loginCustomerId)) {
    fields.push('adAccount.loginCustomerId');
  }
  return fields;
}

/**
 * A tenant's PUT as it may apply: 403 naming the operator's fields it would change, else the input with
 * the ad-account ids kept exactly as the operator wrote them.
 */
export function tenantConfigInput(property: PropertyRecord, input: PropertyConfigInput): PropertyConfigInput {
  const fields = operatorFieldsChanged(property, input);
  if (fields.length > 0) {
    throw new ApiError(403, 'FORBIDDEN', `only the admin key may change ${fields.join(', ')}`, {
      fields: Object.fromEntries(fields.map((field) => [field, 'set by the operator (admin key)'])),
    });
  }
  const current = property.config.adAccount;
  if (!input.adAccount || !current) return input;
  const { loginCustomerId: _login, ...rest } = input.adAccount;
  return {
    ...input,
    adAccount: definedOnly({ ...rest, customerId: current.customerId, loginCustomerId: current.loginCustomerId }),
  };
}

function normalizeAllowlist(entries: readonly string[]): string[] {
  const fields: Record<string, string> = {};
  const normalized = entries.map((entry, i) => {
    const range = parseRange(entry.trim());
    if (!range) fields[`allowlist.${i}`] = 'must be an IPv4/IPv6 address or CIDR range';
    return range ?? '';
  });
  if (Object.keys(fields).length > 0) {
    throw invalidRequest(`invalid body: ${Object.keys(fields).join(', ')}`, { in: 'body', fields });
  }
  return [...new Set(normalized)];
}

/** `a.b.c.d`, `a.b.c.d/n`, IPv6 and IPv6/n, written canonically; undefined when not one of those. */
export function parseRange(text: string): string | undefined {
  const [address = '', prefix, ...rest] = text.split('/');
  if (rest.length > 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return undefined;
  // ipaddr.js also takes legacy forms (`127.1`, hex octets); an allowlist should say what it means.
  if (address.includes('.') && !address.includes(':') && !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return undefined;
  if (!ipaddr.isValid(address)) return undefined;
  const ip = ipaddr.parse(address);
  if (prefix === undefined) return ip.toString();
  const bits = Number(prefix);
  if (bits > (ip.kind() === 'ipv4' ? 32 : 128)) return undefined;
  return `${ip.toString()}/${bits}`;
}
