import { createHmac } from 'node:crypto';
import { ENV, optionalEnv } from '../config/env';
import { getSecret } from '../store/aws/secrets';

const SECRET_MAX_AGE_SECONDS = 300;

/**
 * The key a property's click tokens are signed with: HMAC-SHA256(master, propertyId). One master per
 * deployment (TOKEN_SIGNING_KEY hex locally, TOKEN_SIGNING_SECRET_ARN on AWS) yields an independent key
 * per property, so nothing per property has to be stored. Never log the result.
 */
export async function tokenSigningKey(propertyId: string): Promise<Buffer> {
  return deriveSigningKey(await masterKey(), propertyId);
}

export function deriveSigningKey(master: Buffer, propertyId: string): Buffer {
  return createHmac('sha256', master).update(propertyId, 'utf8').digest();
}

async function masterKey(): Promise<Buffer> {
  const hex = optionalEnv(ENV.tokenSigningKey);
  if (hex) return masterFromHex(hex);
  const arn = optionalEnv(ENV.tokenSigningSecretArn);
  if (!arn) throw new Error(`neither ${ENV.tokenSigningKey} nor ${ENV.tokenSigningSecretArn} is set`);
  const secret = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof secret !== 'string' || secret.length < 32) throw new Error('token signing secret is missing or too short');
  // A generated secret string is used as bytes as it is; a hex string of 64+ digits as the bytes it encodes.
  return /^(?:[0-9a-f]{2}){32,}$/i.test(secret) ? Buffer.from(secret, 'hex') : Buffer.from(secret, 'utf8');
}

function masterFromHex(hex: string): Buffer {
  if (!/^(?:[0-9a-f]{2}){16,}$/i.test(hex)) throw new Error(`${ENV.tokenSigningKey} must be at least 32 hex digits`);
  return Buffer.from(hex, 'hex');
}
