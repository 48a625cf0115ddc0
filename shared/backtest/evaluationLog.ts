import type { LogLine } from './logLine';

/**
 * The project's own labelled evaluation logs: backtest lines (clicks, beacons, delayed conversions) with
 * the truth about every click, generated deterministically from a seed so figures compare across runs.
 *
 * One property; sources of known quality: a click converts at `baseRate` × its placement's factor (spread
 * as display placements are, 0.25–2×) × its campaign's (0.6–1.4×) × its network's (search 1.4×, display
 * 0.85×) × 0.8 on a phone; one made-for-advertising placement, `free-coins.example`, sends human-looking
 * visits — residential addresses, real browsers, 4–25 s dwell — that never convert. Ordinary visitors on
 * home broadband (own address; some come back, and a visitor's later clicks convert at a third of the rate,
 * never again once they converted) or on mobile carriers (carrier-NAT addresses shared by many visitors);
 * conversions arrive 5 minutes to 20 hours after their click; and the fraud kinds of the scoring issue:
 * scripts from cloud ranges, browsers from cloud ranges, click spam from one home address, replayed gclids,
 * and competitors clicking a few times a day from their office's address with a real browser and a real
 * dwell. Lines come out in time order; memory is bounded by the conversion delay.
 */
export type ClickKind =
  | 'ordinary'
  | 'ordinary_mobile'
  | 'mfa_placement'
  | 'cloud_script'
  | 'cloud_browser'
  | 'click_spam'
  | 'gclid_replay'
  | 'competitor';

export interface LabelledLine {
  readonly line: LogLine;
  /** Present on clicks: what the click really is, and whether it converts (eventually). */
  readonly truth?: { readonly kind: ClickKind; readonly converts: boolean };
}

export interface EvaluationLogOptions {
  readonly clicks: number;
  readonly seed?: number;
  readonly property?: string;
  readonly start?: number;
  /** Mean gap between clicks. */
  readonly gapMs?: number;
  readonly baseRate?: number;
  /** Share of clicks per fraud kind; the rest is ordinary (¼ of it mobile). */
  readonly mix?: Partial<Record<Exclude<ClickKind, 'ordinary' | 'ordinary_mobile'>, number>>;
}

export const MFA_PLACEMENT = 'free-coins.example';

const DESKTOP = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
];
const MOBILE = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
];
const SCRIPTS = [
  'curl/8.5.0',
  'python-requests/2.31.0',
  'Go-http-client/2.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
];
/** Home-broadband prefixes of eyeball ISPs (Comcast, Deutsche Telekom, BT, Orange). */
const HOME_PREFIXES = [
  [73, 0, 8],
  [79, 192, 10],
  [86, 128, 10],
  [90, 0, 9],
] as const;
/** Carrier-NAT egress addresses of a mobile carrier (T-Mobile US), shared by many visitors. */
const CARRIER_ADDRESSES = Array.from({ length: 1024 }, (_, i) => `172.56.${16 + (i >> 6)}.${10 + (i & 63) * 3}`);
/** Addresses in published cloud ranges (AWS, Google Cloud, DigitalOcean, Linode). */
const CLOUD_PREFIXES = ['3.5.140.', '52.95.1.', '34.102.5.', '159.89.1.', '45.33.1.'];

/** A household's address in one of HOME_PREFIXES (drawn with `rand`: the prefix, then the host). */
function homeBroadbandAddress(rand: () => number): string {
  const [a, b, bits] = HOME_PREFIXES[Math.floor(rand() * HOME_PREFIXES.length)]!;
  const span = 2 ** (32 - bits);
  const n = (a * 2 ** 24 + b * 2 ** 16 + Math.floor(rand() * span)) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${1 + Math.floor(rand() * 253)}`;
}

const PLACEMENTS = 24;
const CAMPAIGNS = 6;
/** Competitors' office addresses: each clicks a few times a day. */
const COMPETITORS = 10;
/** A returning visitor's later clicks convert at this share of the rate. */
const RETURNING_FACTOR = 1 / 3;

// A module binding rather than `Math.imul` in the generator: see ../fnv1a.ts (jest's vm context).
const imul = Math.imul;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A min-heap of lines by time: conversions and beacons wait here until the clicks' clock passes them. */
class Scheduled {
  private readonly heap: { at: number; line: LogLine }[] = [];
  get size(): number {
    return this.heap.length;
  }
  peek(): number {
    return this.heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }
  push(at: number, line: LogLine): void {
    const h = this.heap;
    h.push({ at, line });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as { at: number }).at <= at) break;
      [h[i], h[parent]] = [h[parent] as { at: number; line: LogLine }, h[i] as { at: number; line: LogLine }];
      i = parent;
    }
  }
  pop(): LogLine {
    const h = this.heap;
    const top = h[0] as { at: number; line: LogLine };
    const last = h.pop() as { at: number; line: LogLine };
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && (h[l] as { at: number }).at < (h[m] as { at: number }).at) m = l;
        if (r < h.length && (h[r] as { at: number }).at < (h[m] as { at: number }).at) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as { at: number; line: LogLine }, h[i] as { at: number; line: LogLine }];
        i = m;
      }
    }
    return top.line;
  }
}

export function* evaluationLog(options: EvaluationLogOptions): Generator<LabelledLine> {
  const rand = rng(options.seed ?? 1);
  const property = options.property ?? 'prop_eval';
  const gapMs = options.gapMs ?? 20_000;
  const baseRate = options.baseRate ?? 0.04;
  const mix = {
    mfa_placement: 0.025,
    cloud_script: 0.02,
    cloud_browser: 0.02,
    click_spam: 0.01,
    gclid_replay: 0.005,
    competitor: 0.01,
    ...options.mix,
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const quality = Array.from({ length: PLACEMENTS }, () => 0.25 * 8 ** rand());
  const campaignQuality = Array.from({ length: CAMPAIGNS }, () => 0.6 + 0.8 * rand());
  const scheduled = new Scheduled();
  const iso = (at: number) => new Date(at).toISOString();
  let at = options.start ?? Date.UTC(2026, 0, 5);
  let gclids = 0;
  const recentGclids: string[] = [];
  let spammer: { ip: string; visitor: string; left: number } | undefined;
  const homeVisitors: { ip: string; visitor: string; ua: string; converted: boolean }[] = [];
  const competitors: { ip: string; visitor: string; ua: string }[] = [];

  const homeAddress = () => homeBroadbandAddress(rand);

  for (let i = 0; i < options.clicks; i++) {
    at += Math.max(1, Math.round(-Math.log(1 - rand()) * gapMs));
    while (scheduled.peek() <= at) yield { line: scheduled.pop() };

    const r = rand();
    let kind: ClickKind;
    let edge = 0;
    kind = 'ordinary';
    for (const [k, share] of Object.entries(mix) as [ClickKind, number][]) {
      edge += share;
      if (r < edge) {
        kind = k;
        break;
      }
    }
    if (kind === 'ordinary' && rand() < 0.25) kind = 'ordinary_mobile';

    const campaign = 1 + Math.floor(rand() * CAMPAIGNS);
    const placementIndex = Math.floor(rand() * PLACEMENTS);
    let placement: string | undefined = `site${placementIndex}.example`;
    const search = kind !== 'mfa_placement' && rand() < 0.3;
    let rate = baseRate * (campaignQuality[campaign - 1] as number);
    rate *= search ? 1.4 : 0.85 * (quality[placementIndex] as number);
    let home: { converted: boolean } | undefined;
    let ip: string;
    let visitor: string;
    let ua: string;
    let mobile = false;
    let gclid = `Cj0KCQiA${(++gclids).toString(36).padStart(8, '0')}`;
    switch (kind) {
      case 'ordinary':
      case 'mfa_placement': {
        // A home visitor: a new one, or one who came before (same address and browser).
        const again = homeVisitors.length > 0 && rand() < 0.15 ? pick(homeVisitors) : undefined;
        const v = again ?? { ip: homeAddress(), visitor: `vis_h${i}`, ua: pick(DESKTOP), converted: false };
        if (again !== undefined) rate = again.converted ? 0 : rate * RETURNING_FACTOR;
        home = v;
        if (again === undefined) {
          if (homeVisitors.length < 5000) homeVisitors.push(v);
          else homeVisitors[Math.floor(rand() * homeVisitors.length)] = v;
        }
        ({ ip, visitor, ua } = v);
        if (kind === 'mfa_placement') placement = MFA_PLACEMENT;
        break;
      }
      case 'ordinary_mobile':
        ip = pick(CARRIER_ADDRESSES);
        visitor = `vis_m${i}`;
        ua = pick(MOBILE);
        mobile = true;
        rate *= 0.8;
        break;
      case 'competitor': {
        if (competitors.length < COMPETITORS)
          competitors.push({ ip: homeAddress(), visitor: `vis_o${i}`, ua: pick(DESKTOP) });
        ({ ip, visitor, ua } = pick(competitors));
        break;
      }
      case 'cloud_script':
      case 'cloud_browser':
        ip = `${pick(CLOUD_PREFIXES)}${1 + Math.floor(rand() * 250)}`;
        visitor = `vis_c${i}`;
        ua = kind === 'cloud_script' ? pick(SCRIPTS) : pick(DESKTOP);
        break;
      case 'click_spam':
        if (spammer === undefined || spammer.left <= 0)
          spammer = { ip: homeAddress(), visitor: `vis_s${i}`, left: 8 + Math.floor(rand() * 8) };
        spammer.left--;
        ({ ip, visitor } = spammer);
        ua = DESKTOP[0] as string;
        break;
      default:
        ip = homeAddress();
        visitor = `vis_r${i}`;
        ua = pick(DESKTOP);
        if (recentGclids.length > 0) gclid = pick(recentGclids);
    }
    if (kind === 'ordinary' || kind === 'ordinary_mobile') {
      recentGclids.push(gclid);
      if (recentGclids.length > 200) recentGclids.shift();
    }

    if (search) placement = undefined;
    const converts = (kind === 'ordinary' || kind === 'ordinary_mobile') && rand() < rate;
    if (converts && home !== undefined) home.converted = true;
    const clickId = `clk_eval${i}`;
    const line: LogLine = {
      type: 'click',
      timestamp: iso(at),
      property,
      ip,
      user_agent: ua,
      gclid,
      click_id: clickId,
      visitor_id: visitor,
      page_url:
        `https://shop.example/landing?gclid=${gclid}&campaignid=${campaign}&adgroupid=${campaign}0${placementIndex % 3}` +
        (placement === undefined ? '&network=g' : `&network=d&placement=${placement}`),
    };
    yield { line, truth: { kind, converts } };

    if (kind !== 'cloud_script') {
      const human =
        kind === 'ordinary' || kind === 'ordinary_mobile' || kind === 'mfa_placement' || kind === 'competitor';
      const dwell = kind === 'mfa_placement' ? 4 + rand() * 21 : human ? 5 + rand() * 120 : rand() * 2;
      scheduled.push(at + Math.round(dwell * 1000), {
        type: 'beacon',
        timestamp: iso(at + Math.round(dwell * 1000)),
        property,
        click_id: clickId,
        time_on_page: Math.round(dwell * 10) / 10,
        scroll_depth: human ? 10 + Math.floor(rand() * 90) : 0,
        mouse_entropy: human && !mobile ? 0.3 + rand() : 0,
        touch: mobile,
      });
    }
    if (converts) {
      const delay = 5 * 60_000 + Math.floor(rand() * 20 * 3_600_000);
      scheduled.push(at + delay, { type: 'conversion', timestamp: iso(at + delay), property, click_id: clickId });
    }
  }
  while (scheduled.size > 0) yield { line: scheduled.pop() };
}

/**
 * A traffic network's paid mobile log, the shape of the outside figures: several advertisers, each with
 * a few campaigns shown across a shared pool of app and site placements. Click volume per placement is
 * long-tailed, and conversion quality is concentrated by campaign × placement: a combination's factor is
 * lognormal with a wide spread (most combinations convert at a fraction of their advertiser's rate, a few at
 * many times it). Visitors are on carrier-NAT addresses shared by many (half of them) or on home Wi-Fi (their own
 * address); some come back; a share are accidental tappers (a game's banner next to a thumb) who click again and
 * again from their own address and almost never convert. Conversions arrive 10 minutes to 22 hours after the
 * click (6 hours on average), ~0.2 % of clicks in all. `propertyPer`: the whole network as one property (`network`) or one property
 * per advertiser (`advertiser`, `prop_adv<n>`), as a backtest of either deployment would see it.
 */
export interface NetworkLogOptions {
  readonly clicks: number;
  readonly seed?: number;
  readonly propertyPer?: 'network' | 'advertiser';
  readonly start?: number;
  readonly gapMs?: number;
  /** Mean conversion rate of an ordinary click (before the combination's factor). */
  readonly baseRate?: number;
}

export type NetworkClickKind = 'mobile_carrier' | 'mobile_wifi' | 'tapper';

export interface NetworkLine {
  readonly line: LogLine;
  readonly truth?: {
    readonly kind: NetworkClickKind;
    readonly converts: boolean;
    readonly advertiser: number;
    readonly campaign: string;
    readonly placement: string;
  };
}

const ADVERTISERS = 8;
const NETWORK_PLACEMENTS = 60;
/** Carrier-NAT egress addresses (T-Mobile US, Vodafone DE): thousands of visitors behind each. */
const NETWORK_CARRIER_ADDRESSES = Array.from(
  { length: 4096 },
  (_, i) => `${i < 2048 ? '172.56' : '109.42'}.${16 + ((i & 2047) >> 6)}.${10 + (i & 63) * 3}`,
);

export function* networkLog(options: NetworkLogOptions): Generator<NetworkLine> {
  const rand = rng(options.seed ?? 11);
  const gapMs = options.gapMs ?? 6_000;
  const baseRate = options.baseRate ?? 0.0025;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const advertisers = Array.from({ length: ADVERTISERS }, (_, a) => ({
    share: 0.3 + rand(),
    rate: 0.5 + rand(),
    campaigns: Array.from({ length: 2 + Math.floor(rand() * 3) }, (_, c) => ({
      id: `${(a + 1) * 100 + c + 1}`,
      rate: Math.exp(0.5 * normal()),
    })),
  }));
  const advertiserTotal = advertisers.reduce((sum, a) => sum + a.share, 0);
  // Long-tailed placement volume: placement p gets weight (p + 2)^-1.5.
  const placementWeight = Array.from({ length: NETWORK_PLACEMENTS }, (_, p) => (p + 2) ** -1.5);
  const placementTotal = placementWeight.reduce((sum, w) => sum + w, 0);
  const placementRate = Array.from({ length: NETWORK_PLACEMENTS }, () => Math.exp(0.8 * normal()));
  const combination = new Map<string, number>();
  // Concentrated: about one combination in seven converts at several times its advertiser's rate, the rest barely.
  const combinationRate = (key: string): number => {
    let f = combination.get(key);
    if (f === undefined) {
      f = rand() < 0.15 ? 6 * Math.exp(0.7 * normal()) : 0.03;
      combination.set(key, f);
    }
    return f;
  };
  const scheduled = new Scheduled();
  const iso = (at: number) => new Date(at).toISOString();
  let at = options.start ?? Date.UTC(2026, 2, 2);
  const wifiUsers: { ip: string; visitor: string; ua: string; converted: boolean }[] = [];
  const tappers: { ip: string; visitor: string; ua: string; left: number }[] = [];
  const wifiAddress = () => homeBroadbandAddress(rand);

  for (let i = 0; i < options.clicks; i++) {
    at += Math.max(1, Math.round(-Math.log(1 - rand()) * gapMs));
    while (scheduled.peek() <= at) yield { line: scheduled.pop() };

    let r = rand() * advertiserTotal;
    let advertiser = 0;
    while (advertiser < ADVERTISERS - 1 && r >= (advertisers[advertiser]?.share ?? 0)) {
      r -= advertisers[advertiser]?.share ?? 0;
      advertiser++;
    }
    const adv = advertisers[advertiser] as (typeof advertisers)[number];
    const campaign = pick(adv.campaigns);
    let w = rand() * placementTotal;
    let placementIndex = 0;
    while (placementIndex < NETWORK_PLACEMENTS - 1 && w >= (placementWeight[placementIndex] as number)) {
      w -= placementWeight[placementIndex] as number;
      placementIndex++;
    }
    const placement = `app${placementIndex}.example`;
    let rate =
      baseRate *
      adv.rate *
      campaign.rate *
      (placementRate[placementIndex] as number) *
      combinationRate(`${campaign.id}|${placementIndex}`);

    let kind: NetworkClickKind;
    let ip: string;
    let visitor: string;
    let ua: string;
    let user: { converted: boolean } | undefined;
    const k = rand();
    if (k < 0.2) {
      kind = 'tapper';
      const again = tappers.length > 0 && rand() < 0.85 ? pick(tappers) : undefined;
      const t = again ?? {
        ip: wifiAddress(),
        visitor: `vis_t${i}`,
        ua: pick(MOBILE),
        left: 5 + Math.floor(rand() * 60),
      };
      if (again === undefined) {
        if (tappers.length < 400) tappers.push(t);
        else tappers[Math.floor(rand() * tappers.length)] = t;
      }
      t.left--;
      if (t.left <= 0) tappers.splice(tappers.indexOf(t), 1);
      ({ ip, visitor, ua } = t);
      rate *= 0.03;
    } else if (k < 0.5) {
      kind = 'mobile_wifi';
      const again = wifiUsers.length > 0 && rand() < 0.2 ? pick(wifiUsers) : undefined;
      const v = again ?? { ip: wifiAddress(), visitor: `vis_w${i}`, ua: pick(MOBILE), converted: false };
      if (again !== undefined) rate = again.converted ? 0 : rate * RETURNING_FACTOR;
      else if (wifiUsers.length < 5000) wifiUsers.push(v);
      else wifiUsers[Math.floor(rand() * wifiUsers.length)] = v;
      user = v;
      ({ ip, visitor, ua } = v);
    } else {
      kind = 'mobile_carrier';
      ip = pick(NETWORK_CARRIER_ADDRESSES);
      visitor = `vis_m${i}`;
      ua = pick(MOBILE);
    }
    const converts = rand() < rate;
    if (converts && user !== undefined) user.converted = true;
    const property = options.propertyPer === 'advertiser' ? `prop_adv${advertiser + 1}` : 'prop_network';
    const clickId = `clk_net${i}`;
    const gclid = `EAIaIQob${i.toString(36).padStart(8, '0')}`;
    yield {
      line: {
        type: 'click',
        timestamp: iso(at),
        property,
        ip,
        user_agent: ua,
        gclid,
        click_id: clickId,
        visitor_id: visitor,
        page_url: `https://adv${advertiser + 1}.example/offer?gclid=${gclid}&campaignid=${campaign.id}&network=d&placement=${placement}&device=m`,
      },
      truth: { kind, converts, advertiser: advertiser + 1, campaign: campaign.id, placement },
    };
    const dwell = kind === 'tapper' ? rand() * 4 : 3 + rand() * 90;
    scheduled.push(at + Math.round(dwell * 1000), {
      type: 'beacon',
      timestamp: iso(at + Math.round(dwell * 1000)),
      property,
      click_id: clickId,
      time_on_page: Math.round(dwell * 10) / 10,
      scroll_depth: kind === 'tapper' ? Math.floor(rand() * 20) : 10 + Math.floor(rand() * 90),
      mouse_entropy: 0,
      touch: true,
    });
    if (converts) {
      const delay = Math.min(22 * 3_600_000, 10 * 60_000 + Math.floor(-Math.log(1 - rand()) * 6 * 3_600_000));
      scheduled.push(at + delay, { type: 'conversion', timestamp: iso(at + delay), property, click_id: clickId });
    }
  }
  while (scheduled.size > 0) yield { line: scheduled.pop() };
}
