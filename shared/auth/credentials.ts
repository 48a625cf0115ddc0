import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CredentialKind } from '../routes';

/**
 * Property credentials: `pk_` public, `sk_` secret, `whsec_` webhook, `rk_` read-only (dashboard). 256 random bits each, so an
 * unsalted SHA-256 is enough to store them (nothing to brute-force); only the hash is ever stored.
 */
export type PropertyCredentialKind = Exclude<CredentialKind, 'admin'>;

const CREDENTIAL_PREFIX: Readonly<Record<PropertyCredentialKind, string>> = {
  public: 'pk_',
  secret: 'sk_',
  webhook: 'whsec_',
  readonly: 'rk_',
};

/** Longest credential we hash at all; anything longer is garbage and rejected before any work. */
const MAX_CREDENTIAL_LENGTH = 256;

export function newCredential(kind: PropertyCredentialKind): string {
  return CREDENTIAL_PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** The kind a credential claims by its prefix; undefined for anything that is not one of ours. */
export function credentialKindOf(value: string): PropertyCredentialKind | undefined {
  if (value.length > MAX_CREDENTIAL_LENGTH || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  if (value.startsWith(CREDENTIAL_PREFIX.webhook)) return 'webhook';
  if (value.startsWith(CREDENTIAL_PREFIX.secret)) return 'secret';
  if (value.startsWith(CREDENTIAL_PREFIX.public)) return 'public';
  if (value.startsWith(CREDENTIAL_PREFIX.readonly)) return 'readonly';
  return undefined;
}

/** SHA-256, hex: the form a credential is stored and looked up in. */
export function hashCredential(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time equality of two hex SHA-256 digests (false for anything malformed). */
export function sameHash(a: string, b: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(a) || !/^[0-9a-f]{64}$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
