import ipaddr from 'ipaddr.js';
import { parseIpv6Hextets } from '../intel/ranges';
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
const MIN_KEY_LENGTH = Math.min(...VALUETRACK_KEYS.map((key) => key.length));
const MAX_KEY_LENGTH = Math.max(...VALUETRACK_KEYS.map((key) => key.length));
/** Google leaves `{campaignid}` in place when a template is not substituted; such values say nothing. */
const UNSUBSTITUTED = /^\{.*\}$/;
const PLUS = /\+/g;
const MAX_PARAM_LENGTH = 256;

/** ValueTrack and UTM parameters from a landing URL; tolerant of relative or broken URLs. */
export function parseValueTrack(pageUrl: string | undefined): ValueTrack {
  if (pageUrl === undefined) return {};
  const q = pageUrl.indexOf('?');
  if (q < 0) return {};
  const hash = pageUrl.indexOf('#', q);
  const end = hash < 0 ? pageUrl.length : hash;
  const out: Record<string, string> = {};
  // Scanned in place: URLSearchParams, or even split('&'), allocates per parameter and dominated a decision.
  for (let start = q + 1; start <= end; ) {
    let amp = pageUrl.indexOf('&', start);
    if (amp < 0 || amp > end) amp = end;
    const eq = pageUrl.indexOf('=', start);
    // Lower-casing never shortens a key, and lengthens one only with non-ASCII: other lengths are never ours.
    if (eq > start && eq < amp && eq - start >= MIN_KEY_LENGTH && eq - start <= MAX_KEY_LENGTH) {
      const k = pageUrl.slice(start, eq).toLowerCase();
      if (VALUETRACK_SET.has(k) && !(k in out)) {
        const v = decodeParam(pageUrl.slice(eq + 1, amp)).trim();
        if (v !== '' && !(v.charCodeAt(0) === 123 && UNSUBSTITUTED.test(v))) out[k] = v.slice(0, MAX_PARAM_LENGTH);
      }
    }
    start = amp + 1;
  }
  return out as ValueTrack;
}

function decodeParam(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(PLUS, ' '));
  } catch {
    return raw;
  }
}

/** Scratch space for one IPv6 parse; parsing is synchronous, so one buffer serves every call. */
const hextets = new Uint16Array(8);

/** The address family and the subnet key velocity counts share (/24 for IPv4, /64 for IPv6). */
export function subnetOf(ip: string): { version: 0 | 4 | 6; subnet?: string } {
  const lastDot = dottedQuadLastDot(ip);
  if (lastDot >= 0) return { version: 4, subnet: `${ip.slice(0, lastDot + 1)}0/24` };
  if (!ip.includes(':')) return { version: 0 };
  let p: ArrayLike<number>;
  if (parseIpv6Hextets(ip, hextets)) p = hextets;
  else if (ipaddr.IPv6.isValid(ip)) p = ipaddr.IPv6.parse(ip).parts;
  else return { version: 0 };
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0xffff) {
    // IPv4-mapped (::ffff:0:0/96) counts with its IPv4 /24.
    return { version: 4, subnet: `${p[6]! >>> 8}.${p[6]! & 255}.${p[7]! >>> 8}.0/24` };
  }
  return { version: 6, subnet: `${hex(p[0])}:${hex(p[1])}:${hex(p[2])}:${hex(p[3])}::/64` };
}

/**
 * Index of the last dot of `d.d.d.d` (one to three digits each, each at most 255; leading zeros
 * allowed, as the counters always keyed them), or −1.
 */
function dottedQuadLastDot(ip: string): number {
  const length = ip.length;
  if (length < 7 || length > 15) return -1;
  let dots = 0;
  let digits = 0;
  let octet = 0;
  let lastDot = -1;
  for (let i = 0; i < length; i++) {
    const code = ip.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      digits = 0;
      octet = 0;
      lastDot = i;
    } else if (code >= 48 && code <= 57) {
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? lastDot : -1;
}

const hex = (n: number | undefined): string => (n ?? 0).toString(16);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Traffic-source keys (`<dimension>:<value>`) that the learned statistics count by: campaign, ad group,
 * keyword, placement, network, device and campaign × placement (shared/scoring/sourceQuality DIMENSIONS).
 */
export function sourceKeys(valueTrack: ValueTrack): string[] {
  const keys: string[] = [];
  const campaign = valueTrack.campaignid ?? valueTrack.utm_campaign;
  if (campaign !== undefined) keys.push(`campaign:${campaign}`);
  if (valueTrack.adgroupid !== undefined) keys.push(`adgroup:${valueTrack.adgroupid}`);
  if (valueTrack.keyword !== undefined) keys.push(`keyword:${valueTrack.keyword}`);
  if (valueTrack.placement !== undefined) {
    keys.push(`placement:${valueTrack.placement}`);
    if (campaign !== undefined) keys.push(`campaign+placement:${campaign}|${valueTrack.placement}`);
  }
  if (valueTrack.network !== undefined) keys.push(`network:${valueTrack.network}`);
  if (valueTrack.device !== undefined) keys.push(`device:${valueTrack.device}`);
  return keys;
}

export function clickFacts(input: ClickInput, ipIntel: IpIntelLookup): ClickFacts {
  const { version, subnet } = subnetOf(input.ip);
  const valueTrack = parseValueTrack(input.pageUrl);
  const sources = sourceKeys(valueTrack);
  const token = input.token;
  const tokenCampaign = token === undefined || token.status === 'invalid' ? undefined : token.payload.campaign;
  const campaign = valueTrack.campaignid ?? valueTrack.utm_campaign ?? tokenCampaign;
  const intel = version === 0 ? undefined : ipIntel.lookup(input.ip);
  // Optional fields are added, not spread: one object per click instead of one per field.
  const facts: Mutable<ClickFacts> = {
    propertyId: input.propertyId,
    ip: input.ip,
    ipVersion: version,
    userAgent: classifyUserAgent(input.userAgent),
    valueTrack,
    sources,
  };
  if (subnet !== undefined) facts.subnet = subnet;
  if (intel !== undefined) facts.intel = intel;
  if (input.gclid !== undefined) facts.gclid = input.gclid;
  if (input.visitorId !== undefined) facts.visitorId = input.visitorId;
  if (campaign !== undefined) facts.campaign = campaign;
  if (token !== undefined) facts.token = token;
  return facts;
}
