import * as z from 'zod';
import { Action, ClickId, Label, Reason, VisitorId } from './common';
import { BotAction, BotLevel } from './decisions';

/** Who the presented key belongs to: how the dashboard signs in without being told the property id. */
export const Session = z
  .object({
    propertyId: z.string(),
    name: z.string(),
    kind: z.enum(['secret', 'readonly']),
    currency: z.string(),
    timezone: z.string(),
    monitorOnly: z.boolean(),
  })
  .meta({ id: 'Session' });

export const TimeseriesQuery = z.object({ range: z.enum(['7days', '30days', '90days']).default('30days') });

const DayPoint = z.object({
  date: z.string(),
  clicks: z.number().int(),
  clean: z.number().int(),
  suspicious: z.number().int(),
  /** Clicks whose current verdict is FRAUD: the invalid clicks. */
  invalid: z.number().int(),
  /** invalid / clicks, 0–1 (four decimals); 0 on a day without clicks. */
  invalidShare: z.number(),
  /** invalid × averageCpc, rounded to cents; null when the property has no averageCpc. */
  wastedSpend: z.number().nullable(),
});

export const Timeseries = z
  .object({
    range: z.string(),
    timezone: z.string(),
    currency: z.string(),
    averageCpc: z.number().nullable(),
    spendEstimate: z.string(),
    days: z.array(DayPoint),
    totals: DayPoint.omit({ date: true }),
  })
  .meta({ id: 'Timeseries' });

const Ip = z.string().trim().min(2).max(64);
const Gclid = z.string().trim().min(1).max(512);

/**
 * Exactly one way to find clicks. A POST body, not a query string: addresses, visitor ids and gclids are
 * visitor data and must not land in access logs, CDN logs or browser history.
 */
export const ClickSearchBody = z
  .object({
    clickId: ClickId.optional(),
    gclid: Gclid.optional(),
    visitorId: VisitorId.optional(),
    ip: Ip.optional(),
    /** How far back a gclid/visitor/address search looks (days, default 7). */
    days: z.number().int().min(1).max(30).default(7),
  })
  .strict()
  .refine(
    (b) => [b.clickId, b.gclid, b.visitorId, b.ip].filter((v) => v !== undefined).length === 1,
    'give exactly one of clickId, gclid, visitorId, ip',
  )
  .meta({ id: 'ClickSearchRequest' });

const OutcomeSchema = z.object({
  score: z.number(),
  label: Label,
  action: Action,
  botLevel: BotLevel,
  botAction: BotAction,
  rules: z.array(z.string()),
});

const SignalSchema = z.object({ rule: z.string(), weight: z.number(), details: z.string() });

export const ClickExplanation = z
  .object({
    clickId: z.string(),
    at: z.string(),
    visitorId: z.string(),
    ip: z.string(),
    claimedIp: z.string().optional(),
    gclid: z.string().optional(),
    userAgent: z.string().optional(),
    pageUrl: z.string().optional(),
    referrer: z.string().optional(),
    valueTrack: z.record(z.string(), z.string()),
    atClick: OutcomeSchema,
    final: OutcomeSchema,
    /** The final verdict's reasons; `score` is each rule's contribution, `details` the numbers behind it. */
    reasons: z.array(Reason),
    /** What the engine weighed at the click and from the landing page's beacons. */
    signals: z.object({ click: z.array(SignalSchema), behaviour: z.array(SignalSchema) }),
    beacon: z.object({ received: z.boolean(), at: z.string().nullable() }),
    conversion: z.object({ converted: z.boolean(), at: z.string().nullable() }),
    done: z.object({
      /** The answer told the landing page to block (false in monitor-only mode). */
      blocked: z.boolean(),
      monitorOnly: z.boolean(),
      /** The address is on the property's blocklist now (score at or above the block threshold, not allowlisted). */
      onBlocklist: z.boolean(),
      /** On the blocklist and the property has an enabled Google Ads link: the hourly push excludes it. */
      adsExclusion: z.enum(['not_linked', 'not_on_blocklist', 'link_disabled', 'pushed_hourly']),
    }),
  })
  .meta({ id: 'ClickExplanation' });

export const ClickSearchResult = z
  .object({
    clicks: z.array(ClickExplanation),
    /** Clicks read to answer (the id lookup reads one). */
    scanned: z.number().int(),
    /** The window held more clicks than one search reads: narrow `days`. */
    truncated: z.boolean(),
  })
  .meta({ id: 'ClickSearchResult' });

export const TrafficSources = z
  .object({
    tracksConversions: z.boolean(),
    propertyConversionRate: z.number(),
    sources: z.array(
      z.object({
        source: z.string(),
        clicks: z.number().int(),
        conversions: z.number().int(),
        conversionRate: z.number(),
        /** Share of the source's clicks judged FRAUD at click time: fraud ÷ (counted clicks + fraud). */
        invalidShare: z.number().nullable(),
        /** The learned component's reason when this source's clicks count against it, else null. */
        learned: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'TrafficSources' });

/** Calibration needs volume: the default range is the longest. */
export const CalibrationQuery = z.object({ range: z.enum(['7days', '30days', '90days']).default('90days') });

const ConversionFigures = {
  clicks: z.number().int(),
  /** Of those clicks, the ones with a trusted conversion. */
  conversions: z.number().int(),
  /** conversions / clicks, 0–1 (four decimals); null without clicks. */
  conversionRate: z.number().nullable(),
};

export const Calibration = z
  .object({
    range: z.string(),
    from: z.string(),
    to: z.string(),
    timezone: z.string(),
    /** The property's thresholds now (the bands below are the verdicts given at click time, under the thresholds then). */
    thresholds: z.object({ suspicious: z.number(), fraud: z.number() }),
    /** What is counted, in words. */
    basis: z.string(),
    total: z.object(ConversionFigures),
    bands: z.array(z.object({ band: Label, ...ConversionFigures })),
    /** Ten at-click score deciles: 0–9, 10–19, …, 90–100. */
    deciles: z.array(z.object({ fromScore: z.number().int(), toScore: z.number().int(), ...ConversionFigures })),
    /** Each rule that fired at click time, most clicks first. */
    rules: z.array(z.object({ rule: z.string(), ...ConversionFigures })),
  })
  .meta({ id: 'Calibration' });
