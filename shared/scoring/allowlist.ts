import ipaddr from 'ipaddr.js';

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

  return {
    size,
    has(ip: string): boolean {
      if (size === 0) return false;
      let addr: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        addr = ipaddr.process(ip);
      } catch {
        return false;
      }
      if (addr instanceof ipaddr.IPv4) {
        const n = ipv4ToUint(addr.octets);
        let lo = 0;
        let hi = starts.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if ((starts[mid] as number) > n) hi = mid - 1;
          else if ((ends[mid] as number) < n) lo = mid + 1;
          else return true;
        }
        return false;
      }
      for (const [range, bits] of v6) if (addr.match(range, bits)) return true;
      return false;
    },
  };
}
