import { hashCredential } from '../../../shared/auth/credentials';
import { createAuthenticator } from '../../../shared/auth/principal';
import type { CredentialRecord, PropertyStore } from '../../../shared/properties/model';
import { propertyService } from '../../../shared/properties/service';
import { routes } from '../../../shared/routes';
import { MemoryPropertyStore } from '../../../shared/store/properties/memory';
import { LocalUsagePlanRegistry } from '../../../shared/store/properties/usagePlans';

/** A store that counts key lookups, so the test sees what a busy container reads. */
function countingStore(store: PropertyStore) {
  const counted = { lookups: 0 };
  const wrapped: PropertyStore = Object.assign(Object.create(store) as PropertyStore, {
    findCredential: (hash: string): Promise<CredentialRecord | undefined> => {
      counted.lookups++;
      return store.findCredential(hash);
    },
  });
  return { wrapped, counted };
}

describe('key lookups per container', () => {
  it('a busy container reads a key about once a second; a rotated-away key fails within that second elsewhere', async () => {
    const shared = new MemoryPropertyStore();
    let clock = Date.parse('2026-11-30T10:00:00Z');
    const now = () => clock;
    const { wrapped, counted } = countingStore(shared);
    // Two containers: one serves clicks, the other rotates the key.
    const clicks = propertyService({ store: wrapped, now });
    const admin = propertyService({ store: shared, now });
    const { property, secretKey } = await admin.createProperty({ name: 'Shop' }, new LocalUsagePlanRegistry());
    const auth = createAuthenticator({ lookup: clicks, adminKey: async () => false });
    const click = (key: string) =>
      auth.authenticateRequest({
        route: routes.click,
        headers: { 'x-api-key': key },
        query: {},
        bodyTrackingKey: undefined,
        sourceIp: '203.0.113.9',
      });

    for (let i = 0; i < 100; i++) {
      await click(secretKey);
      clock += 10; // 100 requests a second
    }
    expect(counted.lookups).toBe(1);

    await admin.rotateKeys(property.id, 'secret');
    clock += 1_000;
    await expect(click(secretKey)).rejects.toMatchObject({ statusCode: 401 });
  });

  it('keeps only keys that exist: random keys are looked up every time and never fill the memory', async () => {
    const { wrapped, counted } = countingStore(new MemoryPropertyStore());
    const service = propertyService({ store: wrapped });
    for (let i = 0; i < 50; i++) expect(await service.findCredential(hashCredential(`sk_random${i}`))).toBeUndefined();
    expect(await service.findCredential(hashCredential('sk_random0'))).toBeUndefined();
    expect(counted.lookups).toBe(51);
  });

  it('the container that rotates a key refuses the old one at once', async () => {
    const service = propertyService({ store: new MemoryPropertyStore() });
    const { property, secretKey } = await service.createProperty({ name: 'Shop' }, new LocalUsagePlanRegistry());
    expect(await service.findCredential(hashCredential(secretKey))).toMatchObject({ propertyId: property.id });
    await service.rotateKeys(property.id, 'secret');
    expect(await service.findCredential(hashCredential(secretKey))).toBeUndefined();
  });
});
