/**
 * What the IP-intelligence snapshot knows of one address. The engine (shared/scoring) reads only this
 * shape; shared/intel builds and queries the snapshot.
 */
/** The one category that describes an address best, by precedence: bogon > tor > crawler > cloud > vpn > datacenter. */
export type IpIntelCategory = 'bogon' | 'tor' | 'crawler' | 'cloud' | 'vpn' | 'datacenter';

export interface IpIntel {
  /** The address in canonical form (IPv4-mapped IPv6 is answered as IPv4). */
  readonly ip: string;
  readonly version: 4 | 6;
  /** Absent for an address no list names and that is routable; every flag below that applies is still set. */
  readonly category?: IpIntelCategory;
  /** A cloud or hosting provider's published range (AWS, Google Cloud, Azure, Oracle, DigitalOcean, Linode). */
  readonly cloud?: { readonly provider: string; readonly service?: string; readonly region?: string };
  /** A hosting / datacenter netblock (X4B datacenter list) that is not in a named cloud list. */
  readonly datacenter?: boolean;
  readonly vpn?: boolean;
  readonly tor?: boolean;
  /** A published crawler range (Googlebot, Bingbot, DuckDuckBot, OpenAI, Perplexity). */
  readonly crawler?: { readonly name: string };
  /** Private, reserved, loopback, link-local, documentation or otherwise unroutable (ipaddr.js range name). */
  readonly bogon?: { readonly range: string };
}

export interface IpIntelLookup {
  /** Returns undefined for a string that is not an IPv4/IPv6 address. Microseconds, no I/O. */
  lookup(ip: string): IpIntel | undefined;
  /** Snapshot identity, for logs and `degraded` verdicts. */
  readonly version: string;
}
