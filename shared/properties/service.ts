import { hashCredential, newCredential, type PropertyCredentialKind } from '../auth/credentials';
import { invalidRequest, notFound } from '../http/errors';
import { newId } from '../ids';
import { definedOnly } from '../optional';
import { defaultPlan, findPlan } from '../plans';
import type { CredentialKind } from '../routes';
import type { PropertyConfigInput } from '../schemas/properties';
import { propertyStore } from '../store';
import type { UsagePlanRegistry } from '../store/properties/usagePlans';
import { configChanges, type EffectiveConfig, effectiveConfig, tenantConfigInput } from './config';
import {
  type CredentialRecord,
  type KeyHashes,
  PropertyMissingError,
  type PropertyRecord,
  type PropertyStore,
} from './model';

export interface CreatePropertyInput {
  readonly name: string;
  readonly domain?: string;
  readonly plan?: string;
  readonly currency?: string;
  readonly timezone?: string;
}

export interface NewCredentials {
  readonly publicKey: string;
  readonly secretKey: string;
  readonly webhookSecret: string;
  readonly readonlyKey: string;
}

/** `all` is the secret key, the webhook secret and the read-only key; the public key is rotated on its own (it is in landing pages). */
export type RotateWhich = 'public' | 'secret' | 'webhook' | 'readonly' | 'all';

export interface RotatedCredentials {
  readonly publicKey?: string;
  readonly secretKey?: string;
  readonly webhookSecret?: string;
  readonly readonlyKey?: string;
  readonly rotatedAt: string;
}

export interface PropertyServiceDeps {
  readonly store: PropertyStore;
  readonly now?: () => number;
  /** How long `getProperty` may answer from memory (the hot path reads a property on every call). */
  readonly cacheMs?: number;
  /** How long a found key's lookup may answer from memory: a rotated-away key fails within this. */
  readonly credentialCacheMs?: number;
}

/** Found keys kept per container; random keys are never kept, so they cannot fill it. */
const MAX_CACHED_CREDENTIALS = 10_000;

export type PropertyService = ReturnType<typeof propertyService>;

export function propertyService(deps: PropertyServiceDeps) {
  const now = deps.now ?? Date.now;
  const cacheMs = deps.cacheMs ?? 10_000;
  const cache = new Map<string, { record: PropertyRecord; until: number }>();
  const credentialCacheMs = deps.credentialCacheMs ?? 1_000;
  const credentials = new Map<string, { record: CredentialRecord; until: number }>();

  async function getProperty(id: string, options: { fresh?: boolean } = {}): Promise<PropertyRecord | undefined> {
    const cached = cache.get(id);
    if (!options.fresh && cached && cached.until > now()) return cached.record;
    const record = await deps.store.get(id);
    if (record) cache.set(id, { record, until: now() + cacheMs });
    else cache.delete(id);
    return record;
  }

  async function requireProperty(id: string): Promise<PropertyRecord> {
    const property = await getProperty(id, { fresh: true });
    if (!property) throw notFound('property not found');
    return property;
  }

  /** `usagePlans` is passed by the functions that create or re-plan properties, so no other function carries it. */
  async function createProperty(
    input: CreatePropertyInput,
    usagePlans: UsagePlanRegistry,
  ): Promise<{ property: PropertyRecord } & NewCredentials> {
    const plan = input.plan === undefined ? defaultPlan() : knownPlan(input.plan);
    const id = newId('prop_');
    const credentials: NewCredentials = {
      publicKey: newCredential('public'),
      secretKey: newCredential('secret'),
      webhookSecret: newCredential('webhook'),
      readonlyKey: newCredential('readonly'),
    };
    const usageKey = await usagePlans.register(id, plan.id);
    const at = new Date(now()).toISOString();
    const property: PropertyRecord = {
      id,
      name: input.name,
      domain: input.domain,
      plan: plan.id,
      currency: input.currency ?? 'USD',
      timezone: input.timezone ?? 'UTC',
      config: {},
      keyHashes: {
        public: hashCredential(credentials.publicKey),
        secret: hashCredential(credentials.secretKey),
        webhook: hashCredential(credentials.webhookSecret),
        readonly: hashCredential(credentials.readonlyKey),
      },
      usageKey: usageKey.value,
      usageKeyId: usageKey.keyId,
      createdAt: at,
      updatedAt: at,
      disabled: false,
    };
    try {
      await deps.store.create(property);
    } catch (error) {
      await usagePlans.remove(usageKey).catch(() => undefined);
      throw error;
    }
    return { property, ...credentials };
  }

  /**
   * The public key is not a secret, but it can be abused (forged events, floods): rotating it stops the
   * old one at once, like any key. `all` leaves it alone, so rotating secrets never breaks landing pages.
   */
  async function rotateKeys(id: string, which: RotateWhich): Promise<RotatedCredentials> {
    await requireProperty(id);
    const kinds: PropertyCredentialKind[] = which === 'all' ? ['secret', 'webhook', 'readonly'] : [which];
    const fresh = Object.fromEntries(kinds.map((kind) => [kind, newCredential(kind)])) as Partial<KeyHashes>;
    const hashes = Object.fromEntries(Object.entries(fresh).map(([kind, value]) => [kind, hashCredential(value)]));
    const rotatedAt = new Date(now()).toISOString();
    await withMissingAsNotFound(() => deps.store.replaceKeys(id, hashes, rotatedAt));
    cache.delete(id);
    for (const [hash, { record }] of credentials) if (record.propertyId === id) credentials.delete(hash);
    return definedOnly({
      publicKey: fresh.public,
      secretKey: fresh.secret,
      webhookSecret: fresh.webhook,
      readonlyKey: fresh.readonly,
      rotatedAt,
    });
  }

  /** `by`: who asks; only `admin` may change the operator's settings (see operatorFieldsChanged). */
  async function updateConfig(
    id: string,
    given: PropertyConfigInput,
    by: CredentialKind,
    usagePlans: UsagePlanRegistry,
  ): Promise<EffectiveConfig> {
    const property = await requireProperty(id);
    const input = by === 'admin' ? given : tenantConfigInput(property, given);
    const plan = input.plan === undefined ? undefined : knownPlan(input.plan);
    const config = configChanges(property.config, input);
    if (plan && plan.id !== property.plan) {
      await usagePlans.changePlan({ keyId: property.usageKeyId, value: property.usageKey }, property.plan, plan.id);
    }
    const fields = definedOnly({
      name: input.name,
      domain: input.domain,
      currency: input.currency,
      timezone: input.timezone,
      plan: plan?.id,
    });
    await withMissingAsNotFound(() => deps.store.update(id, { ...fields, config }, new Date(now()).toISOString()));
    cache.delete(id);
    return effectiveConfig(await requireProperty(id));
  }

  /**
   * Every request looks its key up: answered from memory for at most `credentialCacheMs` (1 s), so a busy
   * container reads a key about once a second instead of once a request, and a rotated-away key fails within
   * that second everywhere (at once in the container that rotated it).
   */
  async function findCredential(hash: string): Promise<CredentialRecord | undefined> {
    const cached = credentials.get(hash);
    if (cached && cached.until > now()) return cached.record;
    const record = await deps.store.findCredential(hash);
    credentials.delete(hash);
    if (record) {
      if (credentials.size >= MAX_CACHED_CREDENTIALS) credentials.delete(credentials.keys().next().value as string);
      credentials.set(hash, { record, until: now() + credentialCacheMs });
    }
    return record;
  }

  return { getProperty, findCredential, createProperty, rotateKeys, updateConfig };
}

function knownPlan(planId: string) {
  const plan = findPlan(planId);
  if (!plan) {
    throw invalidRequest('invalid body: plan', { in: 'body', fields: { plan: `unknown plan ${planId.slice(0, 64)}` } });
  }
  return plan;
}

async function withMissingAsNotFound(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (error instanceof PropertyMissingError) throw notFound('property not found');
    throw error;
  }
}

let current: PropertyService | undefined;

/** The service the Lambda functions use: DynamoDB (TABLE_NAME). */
export function properties(): PropertyService {
  current ??= propertyService({ store: propertyStore() });
  return current;
}

/** Replaces the service (tests, the backtest's in-memory run). */
export function useProperties(service: PropertyService | undefined): void {
  current = service;
}
