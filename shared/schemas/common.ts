import { z } from 'zod';

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
