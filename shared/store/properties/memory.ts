import { definedOnly } from '../../optional';
import {
  type CredentialRecord,
  PropertyExistsError,
  PropertyMissingError,
  type PropertyPatch,
  type PropertyRecord,
  type PropertyStore,
} from '../../properties/model';

/** The property store in a Map: unit tests and the offline backtest. Same semantics as DynamoDB's. */
export class MemoryPropertyStore implements PropertyStore {
  private readonly properties = new Map<string, PropertyRecord>();
  private readonly credentials = new Map<string, CredentialRecord>();

  async get(id: string): Promise<PropertyRecord | undefined> {
    return this.properties.get(id);
  }

  async findCredential(hash: string): Promise<CredentialRecord | undefined> {
    return this.credentials.get(hash);
  }

  async create(property: PropertyRecord): Promise<void> {
    const hashes = Object.values(property.keyHashes).filter((hash) => hash !== undefined);
    if (this.properties.has(property.id) || hashes.some((hash) => this.credentials.has(hash))) {
      throw new PropertyExistsError(property.id);
    }
    this.properties.set(property.id, definedOnly(property));
    for (const [kind, hash] of Object.entries(property.keyHashes)) {
      if (hash === undefined) continue;
      this.credentials.set(hash, { hash, propertyId: property.id, kind: kind as CredentialRecord['kind'] });
    }
  }

  async replaceKeys(id: string, replacements: Partial<PropertyRecord['keyHashes']>, updatedAt: string): Promise<void> {
    const property = this.properties.get(id);
    if (!property) throw new PropertyMissingError(id);
    for (const [kind, hash] of Object.entries(replacements)) {
      const old = property.keyHashes[kind as CredentialRecord['kind']];
      if (old !== undefined) this.credentials.delete(old);
      this.credentials.set(hash, { hash, propertyId: id, kind: kind as CredentialRecord['kind'] });
    }
    this.properties.set(id, { ...property, keyHashes: { ...property.keyHashes, ...replacements }, updatedAt });
  }

  async update(id: string, patch: PropertyPatch, updatedAt: string): Promise<void> {
    const property = this.properties.get(id);
    if (!property) throw new PropertyMissingError(id);
    const { config: configPatch, ...fields } = patch;
    const config: Record<string, unknown> = { ...property.config };
    for (const [field, value] of Object.entries(configPatch ?? {})) {
      if (value === undefined) delete config[field];
      else config[field] = value;
    }
    this.properties.set(id, { ...property, ...fields, config, updatedAt });
  }
}
