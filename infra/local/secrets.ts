import { randomBytes } from 'node:crypto';
import { hashCredential } from '../../shared/auth/credentials';
import { ENV } from '../../shared/config/env';

/** Functions never see the admin key locally, only its SHA-256 (hex of the UTF-8 key). */
export const adminKeySha256 = (adminKey: string): string => hashCredential(adminKey);

export const newAdminKey = (): string => `adm_${randomBytes(24).toString('base64url')}`;
/** Master key for click-token signing (hex). */
export const newTokenSigningKey = (): string => randomBytes(32).toString('hex');

/** The secrets part of a function's environment. */
export function secretsEnv(adminKey: string, tokenSigningKey: string): Record<string, string> {
  return { [ENV.adminKeySha256]: adminKeySha256(adminKey), [ENV.tokenSigningKey]: tokenSigningKey };
}
