import fc from 'fast-check';
import {
  credentialKindOf,
  hashCredential,
  newCredential,
  type PropertyCredentialKind,
  sameHash,
} from '../../../shared/auth/credentials';
import { deriveSigningKey } from '../../../shared/auth/signingKey';

describe('credentials', () => {
  it.each<[PropertyCredentialKind, string]>([
    ['public', 'pk_'],
    ['secret', 'sk_'],
    ['webhook', 'whsec_'],
  ])('a new %s credential has the %s prefix, 256 random bits and parses back to its kind', (kind, prefix) => {
    const a = newCredential(kind);
    const b = newCredential(kind);
    expect(a.startsWith(prefix)).toBe(true);
    expect(Buffer.from(a.slice(prefix.length), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(credentialKindOf(a)).toBe(kind);
  });

  it('rejects values that are not ours, too long, or carry odd characters', () => {
    expect(credentialKindOf('ak_abc')).toBeUndefined();
    expect(credentialKindOf(`sk_${'a'.repeat(300)}`)).toBeUndefined();
    expect(credentialKindOf('sk_abc def')).toBeUndefined();
    expect(credentialKindOf('sk_abc\u0000')).toBeUndefined();
    expect(credentialKindOf('')).toBeUndefined();
  });

  it('hashes to hex SHA-256 (known vector) and never to the value itself', () => {
    expect(hashCredential('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = newCredential('secret');
    expect(hashCredential(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCredential(key)).not.toContain(key.slice(3));
  });

  it('compares hashes: equal only for the same value; malformed input is unequal, not an exception', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(sameHash(hashCredential(a), hashCredential(b))).toBe(a === b);
      }),
    );
    expect(sameHash('abc', 'abc')).toBe(false);
    expect(sameHash(hashCredential('x'), hashCredential('x').toUpperCase())).toBe(false);
  });
});

describe('click-token signing keys', () => {
  it('derives a distinct, stable 32-byte key per property from one master', () => {
    const master = Buffer.alloc(32, 7);
    const a = deriveSigningKey(master, 'prop_a');
    expect(a).toHaveLength(32);
    expect(deriveSigningKey(master, 'prop_a').equals(a)).toBe(true);
    expect(deriveSigningKey(master, 'prop_b').equals(a)).toBe(false);
    expect(deriveSigningKey(Buffer.alloc(32, 8), 'prop_a').equals(a)).toBe(false);
  });

  it('reads the master from TOKEN_SIGNING_KEY and refuses a short one', async () => {
    const { tokenSigningKey } = await import('../../../shared/auth/signingKey');
    const saved = process.env.TOKEN_SIGNING_KEY;
    try {
      process.env.TOKEN_SIGNING_KEY = 'ab'.repeat(32);
      expect((await tokenSigningKey('prop_a')).equals(deriveSigningKey(Buffer.alloc(32, 0xab), 'prop_a'))).toBe(true);
      process.env.TOKEN_SIGNING_KEY = 'abcd';
      await expect(tokenSigningKey('prop_a')).rejects.toThrow(/at least 32 hex digits/);
    } finally {
      if (saved === undefined) delete process.env.TOKEN_SIGNING_KEY;
      else process.env.TOKEN_SIGNING_KEY = saved;
    }
  });
});
