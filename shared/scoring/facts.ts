import ipaddr from 'ipaddr.js';
import type { IpIntel, IpIntelLookup } from '../intel/types';
import type { ValueTrack } from '../model';
import type { ClickTokenCheck } from '../tokens/clickToken';
import { classifyUserAgent, type UserAgentVerdict } from './userAgent';

/** Everything the engine knows about one click before any state is read: pure, cheap, no I/O. */
export interface ClickFacts {
  readonly propertyId: string;
  readonly ip: string;
  /** 0 when the address does not parse (scored as a bogon-like anomaly). */
  readonly ipVersion: 0 | 4 | 6;
  /** `a.b.c.0/24` for IPv4, the first four hextets `/64` for IPv6; undefined for an unparsable address. */
  readonly subnet?: string;
  readonly intel?: IpIntel;
  readonly userAgent: UserAgentVerdict;
  readonly gclid?: string;
  /** Only a visitor id the client sent: a server-assigned one would make every bot click a "new visitor". */
  readonly visitorId?: string;
  readonly valueTrack: ValueTrack;
  /** Traffic-source keys (`campaign:…`, `placement:…`, `network:…`) for conversion feedback. */
  readonly sources: readonly string[];
  /** Campaign id for the repeat-campaign counter (ValueTrack campaignid, else utm_campaign, else the token's). */
  readonly campaign?: string;
  readonly token?: ClickTokenCheck;
}

export interface ClickInput {
  readonly propertyId: string;
  readonly ip: string;
  readonly userAgent?: string;
  readonly gclid?: string;
  readonly pageUrl?: string;
  readonly visitorId?: string;
  /** The result of verifyClickToken when the click carried a token. */
  readonly token?: ClickTokenCheck;
}

const VALUETRACK_KEYS = [
  'campaignid',
  'adgroupid',
  'keyword',
  'matchtype',
  'network',
  'placement',
  'device',
  'creative',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
] as const satisfies readonly (keyof ValueTrack)[];
const VALUETRACK_SET: ReadonlySet<string> = new Set(VALUETRACK_KEYS);
/** Google leaves `{campaignid}` in place when a template is not substituted; such values say nothing. */
const UNSUBSTITUTED = /^\{.*\}$/;
const MAX_PARAM_LENGTH = 256;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** ValueTrack and UTM parameters from a landing URL; tolerant of relative or broken URLs. */
export function parseValueTrack(pageUrl: string | undefined): ValueTrack {
  if (pageUrl === undefined) return {};
  const q = pageUrl.indexOf('?');
  if (q < 0) return {};
  const hash = pageUrl.indexOf('#', q);
  const query = pageUrl.slice(q + 1, hash < 0 ? undefined : hash);
  const out: Record<string, string> = {};
  // A hand-rolled split: URLSearchParams allocates an entry per parameter and dominates a decision's cost.
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const k = pair.slice(0, eq).toLowerCase();
    if (!VALUETRACK_SET.has(k) || k in out) continue;
    const v = decodeParam(pair.slice(eq + 1)).trim();
    if (v === '' || UNSUBSTITUTED.test(v)) continue;
    out[k] = v.slice(0, MAX_PARAM_LENGTH);
  }
  return out as ValueTrack;
}

function decodeParam(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** The address family and the subnet key velocity counts share (/24 for IPv4, /64 for IPv6). */
export function subnetOf(ip: string): { version: 0 | 4 | 6; subnet?: string } {
  const m = IPV4.exec(ip);
  if (m) {
    if (Number(m[1]) > 255 || Number(m[2]) > 255 || Number(m[3]) > 255 || Number(m[4]) > 255) return { version: 0 };
    return { version: 4, subnet: `${m[1]}.${m[2]}.${m[3]}.0/24` };
  }
  if (!ip.includes(':') || !ipaddr.IPv6.isValid(ip)) return { version: 0 };
  const v6 = ipaddr.IPv6.parse(ip);
  if (v6.isIPv4MappedAddress()) return subnetOf(v6.toIPv4Address().toString());
  const p = v6.parts;
  return { version: 6, subnet: `${hex(p[0])}:${hex(p[1])}:${hex(p[2])}:${hex(p[3])}::/64` };
}

const hex = (n: number | undefined): string => (n ?? 0).toString(16);

export function clickFacts(input: ClickInput, ipIntel: IpIntelLookup): ClickFacts {
  const { version, subnet } = subnetOf(input.ip);
  const valueTrack = parseValueTrack(input.pageUrl);
  const sources: string[] = [];
  if (valueTrack.campaignid !== undefined) sources.push(`campaign:${valueTrack.campaignid}`);
  else if (valueTrack.utm_campaign !== undefined) sources.push(`campaign:${valueTrack.utm_campaign}`);
  if (valueTrack.placement !== undefined) sources.push(`placement:${valueTrack.placement}`);
  if (valueTrack.network !== undefined) sources.push(`network:${valueTrack.network}`);
  const tokenCampaign = input.token?.status === 'invalid' ? undefined : input.token?.payload.campaign;
  const campaign = valueTrack.campaignid ?? valueTrack.utm_campaign ?? tokenCampaign;
  const intel = version === 0 ? undefined : ipIntel.lookup(input.ip);
  return {
    propertyId: input.propertyId,
    ip: input.ip,
    ipVersion: version,
    userAgent: classifyUserAgent(input.userAgent),
    valueTrack,
    sources,
    ...(subnet !== undefined ? { subnet } : {}),
    ...(intel !== undefined ? { intel } : {}),
    ...(input.gclid !== undefined ? { gclid: input.gclid } : {}),
    ...(input.visitorId !== undefined ? { visitorId: input.visitorId } : {}),
    ...(campaign !== undefined ? { campaign } : {}),
    ...(input.token !== undefined ? { token: input.token } : {}),
  };
}
