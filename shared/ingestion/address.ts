import ipaddr from 'ipaddr.js';
import type { CredentialKind } from '../routes';

const DOTTED_QUAD = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * An IPv4 or IPv6 address in canonical form (IPv4-mapped IPv6 becomes IPv4), or undefined. Legacy IPv4
 * spellings (`127.1`, octal, hex) that ipaddr.js accepts are refused: nobody sends them on purpose.
 */
export function canonicalIp(text: string): string | undefined {
  const value = text.trim();
  if (value === '' || value.length > 45) return undefined;
  if (value.includes(':')) {
    if (!ipaddr.IPv6.isValid(value)) return undefined;
    return ipaddr.process(value).toString();
  }
  if (!DOTTED_QUAD.test(value) || !ipaddr.IPv4.isValidFourPartDecimal(value)) return undefined;
  return ipaddr.IPv4.parse(value).toString();
}

interface ClickAddress {
  /** The address the click is attributed to and scored by. */
  readonly ip: string;
  /** A body `ip` that was not honoured: recorded with the click, never scored. */
  readonly claimedIp?: string;
}

/**
 * The source-address rule of the contract: a body `ip` is the visitor's address only when the call
 * carries the secret key (a server calling for its visitor). With the public key the caller's own
 * address is the click's, so nobody holding a public key can forge clicks from someone else's address.
 * Returns undefined when a secret-key call names an address that is not one.
 */
export function clickAddress(
  kind: CredentialKind,
  bodyIp: string | undefined,
  sourceIp: string,
): ClickAddress | undefined {
  const source = canonicalIp(sourceIp) ?? sourceIp;
  if (bodyIp === undefined || bodyIp === '') return { ip: source };
  if (kind === 'secret') {
    const ip = canonicalIp(bodyIp);
    return ip === undefined ? undefined : { ip };
  }
  const claimed = canonicalIp(bodyIp) ?? bodyIp;
  return claimed === source ? { ip: source } : { ip: source, claimedIp: claimed };
}
