/**
 * Every rule the engine can fire, with its base weight: the probability-like contribution w in [0, 1]
 * that the combiner folds as 100 × (1 − Π(1 − wᵢ)). A reason's `score` is round(100 × w) after the
 * property's multiplier. Weights are chosen so that the contract's examples hold on their own:
 * one strong signal (automation agent, honeypot, 8 clicks from one address) is ≥ 70, a single
 * medium signal (cloud range, Tor, declared crawler, a repeated gclid) is ≥ 40.
 */
export const RULE_WEIGHTS = {
  allowlisted: 0,
  datacenter_ip: 0.45,
  vpn_ip: 0.3,
  tor_exit: 0.45,
  crawler_ip: 0.6,
  bogon_ip: 0.4,
  crawler_ua: 0.6,
  automation_ua: 0.75,
  missing_ua: 0.5,
  malformed_ua: 0.35,
  rapid_clicks: 0.5,
  ip_velocity: 0.35,
  subnet_velocity: 0.3,
  visitor_velocity: 0.4,
  visitor_many_ips: 0.35,
  duplicate_gclid: 0.5,
  repeat_campaign_click: 0.3,
  click_token_invalid: 0.6,
  click_token_expired: 0.35,
  click_token_replay: 0.5,
  low_quality_source: 0.2,
  repeat_actor: 0.2,
  short_dwell: 0.35,
  no_scroll: 0.1,
  no_pointer: 0.15,
  honeypot: 0.9,
  converted: 0,
} as const;

export type RuleId = keyof typeof RULE_WEIGHTS;

/** Share of the combined score a conversion removes: a converted visitor is very likely a customer. */
export const CONVERSION_TRUST = 0.5;
