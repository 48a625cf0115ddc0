import { invalidRequest, notFound } from '../http/errors';
import type { Action, BotAction, BotLevel, Label, ReasonEntry } from '../model';
import { definedOnly } from '../optional';
import type { ClickSignals } from '../scoring/scoreClick';
import { canonicalIp } from './address';
import { loadProperty } from './clicks';
import type { IngestionDeps } from './ports';

/** POST /v1/click-tokens. */
export async function issueToken(
  deps: IngestionDeps,
  request: { propertyId: string; provider: string; campaign?: string; ttlSeconds: number },
): Promise<{ click_token: string; expires_at: string }> {
  const issued = await deps.tokens.issue(
    request.propertyId,
    definedOnly({ provider: request.provider, ttlSeconds: request.ttlSeconds, campaign: request.campaign }),
    deps.now(),
  );
  return { click_token: issued.token, expires_at: new Date(issued.expiresAt).toISOString() };
}

interface VisitorDecision {
  readonly score: number;
  readonly label: Label;
  readonly action: Action;
  readonly reasons: readonly ReasonEntry[];
}

/**
 * GET /v1/decision. A visitor is as bad as its worst click, re-judged with the property's current
 * configuration; a converted visitor's trust applies. 404 for an unknown visitor, and for another
 * property's (visitor items are keyed by property, so it is simply not there).
 */
export async function decideVisitor(
  deps: IngestionDeps,
  request: { propertyId: string; visitorId: string },
): Promise<VisitorDecision> {
  const property = await loadProperty(deps, request.propertyId);
  const visitor = await deps.store.getVisitor(property.id, request.visitorId, deps.now());
  if (!visitor) throw notFound('unknown visitor');
  const clickIds = [...new Set([visitor.worstClickId, visitor.lastClickId].filter((id): id is string => !!id))];
  const clicks = await Promise.all(clickIds.map((id) => deps.clickStores.clicks.getClick(id)));
  const signals = clicks
    .filter((click) => click?.propertyId === property.id)
    .map((click) => click?.signals)
    .filter((s): s is ClickSignals => s !== undefined);
  const verdict = deps.scoring.scoreVisitor(property, signals, visitor.conversions > 0);
  // A visitor seen only through page views has no click to judge: clean until one says otherwise.
  if (!verdict) return { score: 0, label: 'CLEAN', action: 'ALLOW', reasons: [] };
  return { score: verdict.score, label: verdict.label, action: verdict.action, reasons: verdict.reasons };
}

interface BotVerdictAnswer {
  readonly code: 0;
  readonly data: {
    readonly is_bot: boolean;
    readonly score: number;
    readonly level: BotLevel;
    readonly action: BotAction;
    readonly consistency: {
      readonly ok: boolean;
      readonly same_property: boolean;
      readonly used_once: boolean;
      readonly not_expired: boolean;
      readonly campaign_match: boolean;
      readonly token_uses: number;
    };
    readonly degraded: boolean;
  };
}

const NO_VISIT = 'no visit carried this token yet';

/**
 * GET /v1/bot/verdict. The verdict of the first click that carried the token, as it stands now (after its
 * beacon and any conversion). A forged or other property's token answers exactly like a valid token
 * nobody used yet — 404 — so the route cannot be used to probe which tokens are genuine.
 * consistency.ok: same property, used by one visit only, not expired when used, and the landing URL's
 * campaign (ValueTrack `campaignid` / `utm_campaign`) matches the token's campaign when both say one.
 * degraded: no beacon arrived for the click yet, or IP intelligence was unavailable.
 */
export async function botVerdict(
  deps: IngestionDeps,
  request: { propertyId: string; clickToken: string },
): Promise<BotVerdictAnswer> {
  const property = await loadProperty(deps, request.propertyId);
  const now = deps.now();
  const check = await deps.tokens.verify(property.id, request.clickToken, now);
  if (check.status === 'invalid') throw notFound(NO_VISIT);
  const carried = await deps.store.findClickByToken(check.payload.tokenId, now);
  if (!carried || carried.propertyId !== property.id) throw notFound(NO_VISIT);
  const click = await deps.clickStores.clicks.getClick(carried.clickId);
  if (!click || click.propertyId !== property.id) throw notFound(NO_VISIT);

  const payload = check.payload;
  const landingCampaigns = [click.valueTrack.campaignid, click.valueTrack.utm_campaign].filter(
    (c): c is string => c !== undefined,
  );
  const campaignMatch =
    payload.campaign === undefined || landingCampaigns.length === 0 || landingCampaigns.includes(payload.campaign);
  const notExpired = click.at < payload.expiresAt * 1000;
  const usedOnce = carried.uses <= 1;
  const samePropertyAndProvider = payload.propertyId === property.id && click.tokenProvider === payload.provider;
  const level = click.current.botLevel;
  return {
    code: 0,
    data: {
      is_bot: click.current.label === 'FRAUD',
      score: click.current.score,
      level,
      action: property.engine.botActions[level],
      consistency: {
        ok: samePropertyAndProvider && usedOnce && notExpired && campaignMatch,
        same_property: samePropertyAndProvider,
        used_once: usedOnce,
        not_expired: notExpired,
        campaign_match: campaignMatch,
        token_uses: carried.uses,
      },
      degraded: click.beaconAt === undefined || deps.scoring.intelDegraded(),
    },
  };
}

const TRUSTED: Record<Label, 'Safe' | 'Suspicious' | 'Fake'> = {
  CLEAN: 'Safe',
  SUSPICIOUS: 'Suspicious',
  FRAUD: 'Fake',
};

/** GET /v1/ip-check: ClickPatrol's flags from IP intelligence and the user agent; nothing is stored. */
export async function checkIp(deps: IngestionDeps, request: { propertyId: string; ip: string; userAgent?: string }) {
  const ip = canonicalIp(request.ip);
  if (ip === undefined) {
    throw invalidRequest('invalid query: ip', { in: 'query', fields: { ip: 'not an IPv4/IPv6 address' } });
  }
  const property = await loadProperty(deps, request.propertyId);
  const userAgent = request.userAgent?.trim() ? request.userAgent : undefined;
  const result = await deps.scoring.scoreIp(property, ip, userAgent);
  return {
    trusted_ai_score: TRUSTED[result.verdict.label],
    proxy: result.proxy,
    tor: result.tor,
    vpn: result.vpn,
    crawler: result.crawler,
    bot: result.bot,
  };
}
