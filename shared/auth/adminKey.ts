import { ENV, optionalEnv } from '../config/env';
import { getSecret } from '../store/aws/secrets';
import { hashCredential, sameHash } from './credentials';

/** Checks the deployment's admin key (`x-admin-key`). */
export type AdminKeyVerifier = (presented: string) => Promise<boolean>;

/** Secrets Manager reads are cached this long per container; a rotated admin key applies within it. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Locally the stack passes ADMIN_KEY_SHA256 (hex); on AWS, ADMIN_KEY_SECRET_ARN names a Secrets Manager
 * secret whose string value is the admin key itself. With neither set, no admin key is accepted.
 */
export function adminKeyFromEnv(): AdminKeyVerifier {
  const sha256 = optionalEnv(ENV.adminKeySha256)?.toLowerCase();
  const secretArn = optionalEnv(ENV.adminKeySecretArn);
  if (sha256) return async (presented) => sameHash(hashCredential(presented), sha256);
  if (secretArn) {
    return async (presented) => {
      const secret = await getSecret(secretArn, { maxAge: SECRET_MAX_AGE_SECONDS });
      if (typeof secret !== 'string' || secret === '') return false;
      return sameHash(hashCredential(presented), hashCredential(secret));
    };
  }
  return async () => false;
}
