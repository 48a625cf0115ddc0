import * as z from 'zod';
import { canonicalIp } from '../ingestion/address';
import { ClickId, ClickToken, Reason, storableNumber, VisitorId } from './common';

const Url = z.string().max(4096);
/**
 * One validation for every caller: a malformed `ip` is a 400 whether the public or the secret key sends
 * it (with the public key a valid but differing address is only recorded as claimed). Empty = absent.
 */
const Ip = z
  .string()
  .max(64)
  .refine((value) => value === '' || canonicalIp(value) !== undefined, 'not an IPv4/IPv6 address')
  .describe('IPv4 or IPv6 address of the visitor; honoured only with the secret key, else recorded as claimed');
const UserAgent = z.string().max(2048);
const Gclid = z.string().min(1).max(512);
/** Order and lead values in minor or major units alike; far beyond any real order, within what DynamoDB stores. */
const Money = storableNumber(0, 1e15);

export const EventBody = z
  .object({
    type: z.enum(['page_view', 'click', 'conversion']),
    url: Url.optional(),
    referrer: Url.optional(),
    visitorId: VisitorId.optional(),
    gclid: Gclid.optional(),
    click_token: ClickToken.optional(),
    ip: Ip.optional(),
    tracking_key: z.string().max(256).optional(),
    data: z
      .object({
        userAgent: UserAgent.optional(),
        scrollDepth: storableNumber(0, 100).optional(),
        timeOnPage: storableNumber(0, 86_400_000).optional(),
        value: Money.optional(),
        currency: z.string().max(8).optional(),
        order_id: z.string().max(256).optional(),
      })
      .catchall(z.union([z.string().max(1024), storableNumber(-1e15, 1e15), z.boolean(), z.null()]))
      .optional(),
  })
  .meta({ id: 'EventRequest' });

export const EventAccepted = z
  .object({ success: z.literal(true), eventId: z.string(), visitorId: z.string() })
  .meta({ id: 'EventAccepted' });

export const ClickBody = z
  .object({
    tracking_key: z.string().max(256).optional(),
    ip: Ip.optional(),
    gclid: Gclid.optional(),
    user_agent: UserAgent.optional(),
    referrer: Url.optional(),
    page_url: Url.optional(),
    click_token: ClickToken.optional(),
    visitor_id: VisitorId.optional(),
  })
  .meta({ id: 'ClickRequest' });

export const ClickVerdict = z
  .object({
    status: z.enum(['clean', 'suspicious', 'fraud']),
    score: z.number().int().min(0).max(100),
    action: z.enum(['allow', 'flag', 'block']),
    click_id: ClickId,
    visitor_id: VisitorId.optional(),
    reasons: z.array(Reason),
  })
  .meta({
    id: 'ClickVerdict',
    description:
      'The click scored at once. `repeat_campaign_click` counts per address, campaign and UTC day: an address keeps 8 campaigns a day with their own count, and its further campaigns that day share one overflow count (at least what each alone would count). `duplicate_gclid`: the gclid came with an earlier click the property still keeps (its `retentionDays`); conversions naming the gclid go to that first click.',
  });

export const BeaconBody = z
  .object({
    tracking_key: z.string().max(256).optional(),
    click_id: ClickId.optional(),
    gclid: Gclid.optional(),
    click_token: ClickToken.optional(),
    time_on_page: storableNumber(0, 86_400).optional(),
    scroll_depth: storableNumber(0, 100).optional(),
    mouse_entropy: storableNumber(0, 1_000_000).optional(),
    honeypot: z.boolean().optional(),
    touch: z.boolean().optional(),
  })
  .refine((b) => b.click_id || b.gclid || b.click_token, {
    message: 'one of click_id, gclid or click_token is required',
    path: ['click_id'],
  })
  .meta({
    id: 'BeaconRequest',
    description:
      'Running totals of the visit. A beacon sent before the click answer names the click by its gclid ' +
      '(or gbraid/wbraid/msclkid) or click_token; beacons merge: honeypot and touch stay true once seen, ' +
      'dwell, scroll and pointer entropy keep their maximum.',
  });

export const ConversionBody = z
  .object({
    gclid: Gclid.optional(),
    click_id: ClickId.optional(),
    click_token: ClickToken.optional(),
    value: Money.optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional(),
    order_id: z.string().min(1).max(256).optional(),
    event_name: z.string().max(64).optional(),
  })
  .refine((b) => b.gclid || b.click_id || b.click_token, {
    message: 'one of gclid, click_id or click_token is required',
    path: ['gclid'],
  })
  .meta({ id: 'ConversionRequest' });

export const ConversionAccepted = z
  .object({ success: z.literal(true), click_id: ClickId, message: z.string() })
  .meta({ id: 'ConversionAccepted' });

export const ClickTokenBody = z
  .object({
    provider: z.string().min(1).max(128),
    campaign: z.string().max(256).optional(),
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3600),
  })
  .meta({ id: 'ClickTokenRequest' });

export const ClickTokenIssued = z
  .object({ click_token: ClickToken, expires_at: z.string() })
  .meta({ id: 'ClickTokenIssued' });
