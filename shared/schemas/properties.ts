import * as z from 'zod';
import { PropertyId, storableNumber } from './common';

const Currency = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. USD');
const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'unknown IANA time zone');

export const CreatePropertyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    domain: z.string().trim().min(1).max(253).optional(),
    plan: z.string().max(64).optional(),
    currency: Currency.optional(),
    timezone: TimeZone.optional(),
  })
  .strict()
  .meta({ id: 'CreatePropertyRequest' });

export const PropertyCredentials = z
  .object({
    id: PropertyId,
    name: z.string(),
    plan: z.string(),
    publicKey: z.string(),
    secretKey: z.string(),
    webhookSecret: z.string(),
    /** `rk_…`: the dashboard's read-only key (read routes only). */
    readonlyKey: z.string(),
  })
  .meta({ id: 'PropertyCredentials' });

/** GET /v1/properties (admin key only): the property directory, without any credential. */
/** One property in the operator's list: nothing secret. */
export const PropertySummary = z.object({
  id: PropertyId,
  name: z.string(),
  domain: z.string().optional(),
  plan: z.string(),
  enabled: z.boolean(),
  created: z.string(),
});
/** The one definition: the API's schema, the domain's list and the dashboard (a type import) all use it. */
export type PropertySummary = z.infer<typeof PropertySummary>;

export const PropertyList = z.object({ properties: z.array(PropertySummary) }).meta({ id: 'PropertyList' });

/** `all` = secret + webhook + read-only; `public` is rotated on its own, as it is in every landing page. */
export const RotateKeysBody = z
  .object({ which: z.enum(['public', 'secret', 'webhook', 'readonly', 'all']) })
  .strict()
  .meta({ id: 'RotateKeysRequest' });

export const RotatedKeys = z
  .object({
    id: PropertyId,
    publicKey: z.string().optional(),
    secretKey: z.string().optional(),
    webhookSecret: z.string().optional(),
    readonlyKey: z.string().optional(),
    rotatedAt: z.string(),
  })
  .meta({ id: 'RotatedKeys' });

export const PropertyIdPath = z.object({ id: PropertyId });

const Cidr = z.string().max(64);

/** Per-property configuration: every field optional on PUT; GET returns the effective values. */
export const PropertyConfig = z
  .object({
    thresholds: z
      .object({
        suspicious: z.number().int().min(1).max(100),
        fraud: z.number().int().min(1).max(100),
      })
      .refine((t) => t.suspicious < t.fraud, 'suspicious must be below fraud')
      .optional(),
    monitorOnly: z.boolean().optional(),
    allowlist: z.array(Cidr).max(1000).optional(),
    // DynamoDB refuses empty map keys and numbers below 1e-130: both must answer 400, not 500.
    ruleWeights: z
      .record(
        z.string().min(1).max(64),
        z
          .number()
          .min(0)
          .max(10)
          .refine((weight) => weight === 0 || weight >= 1e-6, 'must be 0 or at least 0.000001'),
      )
      .optional(),
    botActions: z
      .object({
        low: z.enum(['record_only', 'flag', 'challenge', 'block']),
        medium: z.enum(['record_only', 'flag', 'challenge', 'block']),
        high: z.enum(['record_only', 'flag', 'challenge', 'block']),
        critical: z.enum(['record_only', 'flag', 'challenge', 'block']),
      })
      .partial()
      .optional(),
    adAccount: z
      .object({
        provider: z.literal('google_ads'),
        customerId: z.string().regex(/^\d{3}-?\d{3}-?\d{4}$/),
        loginCustomerId: z
          .string()
          .regex(/^\d{3}-?\d{3}-?\d{4}$/)
          .optional(),
        campaignIds: z.array(z.string().regex(/^\d+$/)).max(1000).optional(),
        enabled: z.boolean().default(true),
      })
      .nullable()
      .optional(),
    name: z.string().trim().min(1).max(200).optional(),
    domain: z.string().trim().min(1).max(253).optional(),
    currency: Currency.optional(),
    timezone: TimeZone.optional(),
    plan: z.string().max(64).optional(),
    /**
     * Days clicks, visitors, address records, click indexes and conversions are kept (DynamoDB TTL from each
     * item's last write). Default 396 (13 months); shorter is allowed, down to 30 (the stats range is 90 days).
     */
    retentionDays: z.number().int().min(30).max(396).optional(),
    /** The Google Ads push computes and records its plan but changes nothing in the account. */
    exclusionDryRun: z.boolean().optional(),
    /** An exclusion is kept this many days after the last bad click from its address or range. */
    exclusionExpiryDays: z.number().int().min(1).max(365).optional(),
    /** Also exclude display/video placements judged low quality (account level; default true). */
    exclusionPlacements: z.boolean().optional(),
    /**
     * What an average paid click costs, in the property's currency: the dashboard's wasted-spend estimate is
     * invalid (FRAUD) clicks × this. Null clears it. Take it from the ad account's "Avg. CPC" column.
     */
    averageCpc: storableNumber(0, 10_000).nullable().optional(),
  })
  .strict()
  .meta({ id: 'PropertyConfig' });
export type PropertyConfigInput = z.infer<typeof PropertyConfig>;
