import type { PropertyCredentialKind } from '../auth/credentials';
import type { PropertyConfigInput } from '../schemas/properties';

/** The settings kept in `config` (the property's own fields — name, plan, … — live beside it). */
export type StoredConfig = Omit<PropertyConfigInput, 'name' | 'domain' | 'currency' | 'timezone' | 'plan'>;

/** `readonly` is absent on properties created before the read-only key existed, until it is first rotated. */
export type KeyHashes = Readonly<Record<Exclude<PropertyCredentialKind, 'readonly'>, string>> & {
  readonly readonly?: string;
};

/**
 * `PROP#<id>` / `META`. `usageKey` is the value of the property's API Gateway API key, handed to API
 * Gateway by the authorizer as `usageIdentifierKey` so the property's usage plan applies. It is an
 * internal identifier for metering, not a credential: API Gateway is configured with
 * `apiKeySource: AUTHORIZER`, so nobody can authenticate by sending it.
 */
export interface PropertyRecord {
  readonly id: string;
  readonly name: string;
  readonly domain?: string;
  readonly plan: string;
  readonly currency: string;
  readonly timezone: string;
  readonly config: StoredConfig;
  readonly keyHashes: KeyHashes;
  readonly usageKey: string;
  /** API Gateway's id of that API key (`local` on the local stack). */
  readonly usageKeyId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly disabled: boolean;
}

/** `KEY#<sha256>` / `KEY`: finds the property a presented credential belongs to. */
export interface CredentialRecord {
  readonly hash: string;
  readonly propertyId: string;
  readonly kind: PropertyCredentialKind;
}

export type PropertyPatch = Partial<
  Pick<PropertyRecord, 'name' | 'domain' | 'plan' | 'currency' | 'timezone' | 'disabled' | 'usageKeyId' | 'usageKey'>
> & { readonly config?: Partial<Record<keyof StoredConfig, unknown>> };

/** Storage of properties and their credential hashes: DynamoDB in the service, a Map in tests. */
export interface PropertyStore {
  get(id: string): Promise<PropertyRecord | undefined>;
  findCredential(hash: string): Promise<CredentialRecord | undefined>;
  /** Writes the property and one credential item per key, all or nothing; fails if any exists. */
  create(property: PropertyRecord): Promise<void>;
  /**
   * Replaces some of a property's keys at once: the old credential items go, the new ones come, and
   * the property's hashes change — one transaction, so an old value never works afterwards.
   */
  replaceKeys(id: string, replacements: Partial<KeyHashes>, updatedAt: string): Promise<void>;
  /** Sets the given top-level fields and config fields (undefined config value = remove). */
  update(id: string, patch: PropertyPatch, updatedAt: string): Promise<void>;
}

export class PropertyExistsError extends Error {
  constructor(readonly propertyId: string) {
    super(`property ${propertyId} or one of its keys already exists`);
    this.name = 'PropertyExistsError';
  }
}

export class PropertyMissingError extends Error {
  constructor(readonly propertyId: string) {
    super(`property ${propertyId} does not exist`);
    this.name = 'PropertyMissingError';
  }
}
