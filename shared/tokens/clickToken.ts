import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { definedOnly } from '../optional';

/**
 * Click tokens: `ct_1.<payload>.<mac>`, both parts base64url. The payload is JSON and the MAC is
 * HMAC-SHA256 over `ct_1.<payload>` with the property's key. The property id sits inside the signed
 * payload, so a token issued for property A never verifies as B's even if keys were ever shared.
 */
const VERSION_PREFIX = 'ct_1.';
const MAC_BYTES = 32;
/** Far below the schema's 1024-char cap; anything longer cannot be ours and is not parsed. */
const MAX_TOKEN_LENGTH = 1024;

export interface ClickTokenPayload {
  readonly propertyId: string;
  readonly provider: string;
  readonly campaign?: string;
  readonly tokenId: string;
  /** Epoch seconds. */
  readonly issuedAt: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface IssueClickTokenInput {
  readonly propertyId: string;
  readonly provider: string;
  readonly campaign?: string;
  readonly ttlSeconds: number;
  readonly nowMs: number;
}

export interface IssuedClickToken {
  readonly token: string;
  readonly tokenId: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export type ClickTokenCheck =
  | { readonly status: 'ok'; readonly payload: ClickTokenPayload }
  | { readonly status: 'expired'; readonly payload: ClickTokenPayload }
  | { readonly status: 'invalid'; readonly reason: 'format' | 'signature' | 'property' };

interface WirePayload {
  p: string;
  pr: string;
  c?: string;
  i: string;
  t: number;
  e: number;
}

const mac = (key: Buffer, signed: string): Buffer => createHmac('sha256', key).update(signed).digest();

export function issueClickToken(key: Buffer, input: IssueClickTokenInput): IssuedClickToken {
  const issuedAt = Math.floor(input.nowMs / 1000);
  const tokenId = randomBytes(12).toString('base64url');
  const wire: WirePayload = {
    p: input.propertyId,
    pr: input.provider,
    i: tokenId,
    t: issuedAt,
    e: issuedAt + input.ttlSeconds,
  };
  if (input.campaign !== undefined) wire.c = input.campaign;
  const signed = VERSION_PREFIX + Buffer.from(JSON.stringify(wire)).toString('base64url');
  return {
    token: `${signed}.${mac(key, signed).toString('base64url')}`,
    tokenId,
    expiresAt: wire.e * 1000,
  };
}

/**
 * Verifies signature first (constant-time), then the bound property, then expiry. A token that fails
 * the signature is `invalid` whatever its payload claims.
 */
export function verifyClickToken(
  key: Buffer,
  token: string,
  nowMs: number,
  expectedPropertyId?: string,
): ClickTokenCheck {
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(VERSION_PREFIX))
    return { status: 'invalid', reason: 'format' };
  const dot = token.lastIndexOf('.');
  if (dot <= VERSION_PREFIX.length) return { status: 'invalid', reason: 'format' };
  const signed = token.slice(0, dot);
  const macPart = token.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(macPart)) return { status: 'invalid', reason: 'format' };
  const given = Buffer.from(macPart, 'base64url');
  // Re-encoding must reproduce the text, or several spellings of one MAC would verify.
  if (given.length !== MAC_BYTES || given.toString('base64url') !== macPart)
    return { status: 'invalid', reason: 'signature' };
  if (!timingSafeEqual(given, mac(key, signed))) return { status: 'invalid', reason: 'signature' };

  const payload = decodePayload(signed.slice(VERSION_PREFIX.length));
  if (payload === undefined) return { status: 'invalid', reason: 'format' };
  if (expectedPropertyId !== undefined && payload.propertyId !== expectedPropertyId) {
    return { status: 'invalid', reason: 'property' };
  }
  return payload.expiresAt * 1000 <= nowMs ? { status: 'expired', payload } : { status: 'ok', payload };
}

function decodePayload(encoded: string): ClickTokenPayload | undefined {
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof wire !== 'object' || wire === null) return undefined;
  const w = wire as Record<string, unknown>;
  if (typeof w.p !== 'string' || typeof w.pr !== 'string' || typeof w.i !== 'string') return undefined;
  if (typeof w.t !== 'number' || typeof w.e !== 'number') return undefined;
  if (w.c !== undefined && typeof w.c !== 'string') return undefined;
  return definedOnly({
    propertyId: w.p,
    provider: w.pr,
    tokenId: w.i,
    issuedAt: w.t,
    expiresAt: w.e,
    campaign: typeof w.c === 'string' ? w.c : undefined,
  });
}
