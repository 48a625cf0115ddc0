import { hashCredential } from '../../../shared/auth/credentials';
import { createAuthenticator } from '../../../shared/auth/principal';
import { type PropertyService, propertyService } from '../../../shared/properties/service';
import { MemoryPropertyStore } from '../../../shared/store/properties/memory';
import { LocalUsagePlanRegistry } from '../../../shared/store/properties/usagePlans';

export const ADMIN_KEY = 'admin-key-for-tests-0123456789';

/** An in-memory property service, an authenticator over it, and two properties with their credentials. */
export async function world() {
  const store = new MemoryPropertyStore();
  const usagePlans = new LocalUsagePlanRegistry();
  const service: PropertyService = propertyService({ store });
  const adminHash = hashCredential(ADMIN_KEY);
  const auth = createAuthenticator({
    lookup: service,
    adminKey: async (presented) => hashCredential(presented) === adminHash,
  });
  const a = await service.createProperty({ name: 'Shop A', plan: 'starter' }, usagePlans);
  const b = await service.createProperty({ name: 'Shop B', plan: 'growth' }, usagePlans);
  return { store, service, auth, a, b };
}
