import ipaddr from 'ipaddr.js';
import { parseDottedQuad, parseIpv6Hextets } from '../intel/ranges';

/**
 * An IP/CIDR allowlist compiled once per property config: IPv4 entries become merged, sorted uint32
 * intervals searched by bisection (a property may list up to 1000 entries); IPv6 entries are few in
 * practice and matched by prefix.
 */
export interface Allowlist {
  has(ip: string): boolean;
  readonly size: number;
}

const ipv4ToUint = (octets: readonly number[]): number =>
  (((octets[0] ?? 0) << 24) >>> 0) + ((octets[1] ?? 0) << 16) + ((octets[2] ?? 0) << 8) + (octets[3] ?? 0);

type Ipv6Range = [ipaddr.IPv6, number];

/** Scratch space for one IPv6 parse; `has` is synchronous, so one buffer serves every allowlist. */
const hextets = new Uint16Array(8);

/** ipaddr.js's CIDR match over hextets (the first `bits` bits equal). */
function prefixMatches(address: Uint16Array, range: readonly number[], bits: number): boolean {
  for (let part = 0; bits > 0; part++, bits -= 16) {
    const shift = bits >= 16 ? 0 : 16 - bits;
    if (address[part]! >> shift !== range[part]! >> shift) return false;
  }
  return true;
}

export function compileAllowlist(entries: readonly string[]): Allowlist {
  const v4: [number, number][] = [];
  const v6: Ipv6Range[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    let bits: number;
    try {
      if (entry.includes('/')) [addr, bits] = ipaddr.parseCIDR(entry);
      else {
        addr = ipaddr.parse(entry);
        bits = addr.kind() === 'ipv4' ? 32 : 128;
      }
    } catch {
      // Validation happens at PUT; an entry that slipped through simply never matches.
      continue;
    }
    if (addr instanceof ipaddr.IPv6 && addr.isIPv4MappedAddress()) {
      addr = addr.toIPv4Address();
      bits = Math.max(0, bits - 96);
    }
    if (addr instanceof ipaddr.IPv4) {
      const size = 2 ** (32 - bits);
      const start = Math.floor(ipv4ToUint(addr.octets) / size) * size;
      v4.push([start, start + size - 1]);
    } else v6.push([addr, bits]);
  }
  v4.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of v4) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  const starts = merged.map((r) => r[0]);
  const ends = merged.map((r) => r[1]);
  const size = merged.length + v6.length;
  const v4Has = (n: number): boolean => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] as number) > n) hi = mid - 1;
      else if ((ends[mid] as number) < n) lo = mid + 1;
      else return true;
    }
    return false;
  };

  return {
    size,
    has(ip: string): boolean {
      if (size === 0) return false;
      // Plain dotted quads and plain IPv6 are read here exactly as ipaddr.js reads them; other forms go through it.
      const quad = parseDottedQuad(ip);
      if (quad >= 0) return v4Has(quad);
      if (parseIpv6Hextets(ip, hextets)) {
        const h = hextets;
        if (h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff) {
          return v4Has((h[6]! * 65536 + h[7]!) >>> 0);
        }
        for (const [range, bits] of v6) if (prefixMatches(h, range.parts, bits)) return true;
        return false;
      }
      let addr: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        addr = ipaddr.process(ip);
      } catch {
        return false;
      }
      if (addr instanceof ipaddr.IPv4) return v4Has(ipv4ToUint(addr.octets));
      for (const [range, bits] of v6) if (addr.match(range, bits)) return true;
      return false;
    },
  };
}
