import * as z from 'zod';

export const Health = z
  .object({ status: z.literal('ok'), version: z.string(), time: z.string() })
  .meta({ id: 'Health' });

export const PlansResponse = z
  .object({
    plans: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        ratePerMinute: z.number(),
        burst: z.number(),
        monthlyAllowance: z.number(),
        description: z.string().optional(),
      }),
    ),
    branding: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Plans' });

export const OpenApiDocument = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' });

/** `clicksieve.js` (the current version) or `clicksieve-<major.minor.patch>.js` (one exact version). */
export const SdkScriptPath = z.object({
  file: z
    .string()
    .max(64)
    .regex(/^clicksieve(-\d+\.\d+\.\d+)?\.js$/, 'must be clicksieve.js or clicksieve-<version>.js'),
});
