import * as z from 'zod';

/** SQS message bodies, validated by the consumers (a body that fails is a poison message: DLQ). */
export const BeaconMessage = z
  .object({
    kind: z.literal('beacon'),
    /** Derived from the beacon's content: the same beacon sent twice is applied once. */
    beaconId: z.string().min(1).max(128),
    propertyId: z.string().min(1).max(128),
    /** The click, by its id or, for a beacon sent before the click answer, by its gclid or click token. */
    clickId: z.string().min(1).max(128).optional(),
    gclid: z.string().min(1).max(512).optional(),
    clickToken: z.string().min(1).max(1024).optional(),
    receivedAt: z.number().int().nonnegative(),
    behaviour: z.object({
      timeOnPageSeconds: z.number().optional(),
      scrollDepth: z.number().optional(),
      mouseEntropy: z.number().optional(),
      honeypot: z.boolean().optional(),
      touch: z.boolean().optional(),
    }),
  })
  .refine((m) => m.clickId !== undefined || m.gclid !== undefined || m.clickToken !== undefined, {
    message: 'a beacon names its click by clickId, gclid or clickToken',
  });
export type BeaconMessage = z.infer<typeof BeaconMessage>;

export const ConversionMessage = z.object({
  kind: z.literal('conversion'),
  /** `webhook`: the conversion is already recorded against `clickId`; `event`: the scorer finds the click. */
  source: z.enum(['webhook', 'event']),
  /**
   * Whether the outcome may teach: true for the webhook secret and for events sent with the secret key,
   * false for a public-key event (anyone can send one). Untrusted conversions never change a score, an
   * address's standing or a statistic; the consumer only logs them.
   */
  trusted: z.boolean(),
  propertyId: z.string().min(1).max(128),
  receivedAt: z.number().int().nonnegative(),
  clickId: z.string().max(128).optional(),
  gclid: z.string().max(512).optional(),
  clickTokenId: z.string().max(128).optional(),
  visitorId: z.string().max(128).optional(),
  eventId: z.string().max(128).optional(),
  value: z.number().optional(),
  currency: z.string().max(8),
  orderId: z.string().max(256).optional(),
  eventName: z.string().max(64).optional(),
});
export type ConversionMessage = z.infer<typeof ConversionMessage>;

/** A stored click, or a click whose verdict changed: the click counter counts it as stored now. */
export const CountMessage = z.object({
  kind: z.literal('count'),
  propertyId: z.string().min(1).max(128),
  clickId: z.string().min(1).max(128),
  /** When the click happened (epoch ms): a click still missing a minute later was never stored. */
  at: z.number().int().nonnegative(),
});
export type CountMessage = z.infer<typeof CountMessage>;
