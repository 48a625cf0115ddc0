import type { CredentialKind } from '../routes';
import type { PropertyConfigInput } from '../schemas/properties';
import { type UsagePlanRegistry, usagePlanRegistryFromEnv } from '../store/properties/usagePlans';
import { type CreatePropertyInput, properties, type RotateWhich } from './service';

export { DynamoPropertyStore } from '../store/properties/dynamo';
export { MemoryPropertyStore } from '../store/properties/memory';
export { LocalUsagePlanRegistry, type UsagePlanRegistry } from '../store/properties/usagePlans';
export { DEFAULT_CONFIG, type EffectiveConfig, effectiveConfig, parseRange } from './config';
export type { CredentialRecord, PropertyRecord, PropertyStore } from './model';
export {
  type CreatePropertyInput,
  type PropertyService,
  properties,
  propertyService,
  type RotateWhich,
  useProperties,
} from './service';

/** A property, from memory for up to ~10 s (hot path); `{fresh: true}` reads the table. */
export const getProperty = (id: string, options?: { fresh?: boolean }) => properties().getProperty(id, options);
let usagePlans: UsagePlanRegistry | undefined;
/** API Gateway's usage plans (or the local no-op): only the functions that create or re-plan properties load it. */
const usagePlanRegistry = () => {
  usagePlans ??= usagePlanRegistryFromEnv();
  return usagePlans;
};

export const createProperty = (input: CreatePropertyInput) => properties().createProperty(input, usagePlanRegistry());
export const rotateKeys = (id: string, which: RotateWhich) => properties().rotateKeys(id, which);
export const updateConfig = (id: string, input: PropertyConfigInput, by: CredentialKind) =>
  properties().updateConfig(id, input, by, usagePlanRegistry());
