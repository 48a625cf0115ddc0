import type { CredentialKind } from '../routes';
import type { PropertyConfigInput } from '../schemas/properties';
import { type CreatePropertyInput, properties, type RotateWhich } from './service';

export { DEFAULT_CONFIG, type EffectiveConfig, effectiveConfig, parseRange } from './config';
export { DynamoPropertyStore } from './dynamoStore';
export { MemoryPropertyStore } from './memoryStore';
export type { CredentialRecord, PropertyRecord, PropertyStore } from './model';
export {
  type CreatePropertyInput,
  type PropertyService,
  properties,
  propertyService,
  type RotateWhich,
  useProperties,
} from './service';
export { LocalUsagePlanRegistry, type UsagePlanRegistry } from './usagePlans';

/** A property, from memory for up to ~10 s (hot path); `{fresh: true}` reads the table. */
export const getProperty = (id: string, options?: { fresh?: boolean }) => properties().getProperty(id, options);
export const createProperty = (input: CreatePropertyInput) => properties().createProperty(input);
export const rotateKeys = (id: string, which: RotateWhich) => properties().rotateKeys(id, which);
export const updateConfig = (id: string, input: PropertyConfigInput, by: CredentialKind) =>
  properties().updateConfig(id, input, by);
