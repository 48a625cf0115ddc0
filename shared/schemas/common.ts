import * as z from 'zod';

export const ErrorBodySchema = z
  .object({
    error: z.string(),
    code: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Error' });

export const idWithPrefix = (prefix: string) =>
  z
    .string()
    .min(prefix.length + 1)
    .max(128)
    .regex(new RegExp(`^${prefix}[A-Za-z0-9_-]+$`), `must start with ${prefix}`);

export const PropertyId = idWithPrefix('prop_');
export const VisitorId = idWithPrefix('vis_');
export const ClickId = idWithPrefix('clk_');
export const ClickToken = z.string().min(4).max(1024).regex(/^ct_/, 'must start with ct_');

export const Label = z.enum(['CLEAN', 'SUSPICIOUS', 'FRAUD']);
export const Action = z.enum(['ALLOW', 'FLAG', 'BLOCK']);

export const Reason = z
  .object({
    rule: z.string(),
    score: z.number(),
    details: z.string(),
  })
  .meta({ id: 'Reason' });

/** ISO date `YYYY-MM-DD`, as the reporting routes take. */
export const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

/**
 * A number DynamoDB can store: 0, or a magnitude between 1e-6 and `max` (DynamoDB refuses below 1e-130 and
 * above ~1e126, which JSON happily carries). Measurements and money never need more.
 */
export const storableNumber = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((n) => n === 0 || Math.abs(n) >= 1e-6, 'must be 0 or at least 0.000001 in magnitude');
