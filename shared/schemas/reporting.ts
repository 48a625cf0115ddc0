import * as z from 'zod';
import { IsoDate, idWithPrefix } from './common';
import { BotLevel } from './decisions';

export const StatsQuery = z.object({ range: z.enum(['today', '7days', '30days', '90days']).default('today') });
export const PropertyStats = z
  .object({
    totalEvents: z.number().int(),
    totalDecisions: z.number().int(),
    cleanCount: z.number().int(),
    suspiciousCount: z.number().int(),
    fraudCount: z.number().int(),
    fraudRate: z.string(),
    topRules: z.array(z.object({ rule: z.string(), count: z.number().int() })),
  })
  .meta({ id: 'PropertyStats' });

export const BlocklistQuery = z.object({
  format: z.enum(['json', 'csv']).default('json'),
  days: z.coerce.number().int().min(1).max(365).default(30),
});
export const Blocklist = z
  .object({
    blocklist: z.array(z.object({ ip: z.string(), score: z.number(), lastSeen: z.string(), reason: z.string() })),
    total: z.number().int(),
    generatedAt: z.string(),
  })
  .meta({ id: 'Blocklist' });

export const DateRangeQuery = z.object({ from: IsoDate, to: IsoDate });
export const BotStats = z
  .object({
    code: z.literal(0),
    data: z.object({
      from: IsoDate,
      to: IsoDate,
      total: z.number().int(),
      bots: z.number().int(),
      bot_rate: z.number(),
      by_action: z.object({
        record_only: z.number().int(),
        flag: z.number().int(),
        challenge: z.number().int(),
        block: z.number().int().optional(),
      }),
      by_level: z.record(BotLevel, z.number().int()),
    }),
  })
  .meta({ id: 'BotStats' });

export const ExportQuery = DateRangeQuery.extend({ format: z.literal('csv').default('csv') });
/** Bounded like every id: a longer one is not ours and would exceed DynamoDB's key size (a 500, not a 404). */
export const ExportIdPath = z.object({ export_id: idWithPrefix('exp_') });
export const ExportStatus = z
  .object({
    code: z.literal(0),
    data: z.union([
      z.object({ status: z.literal('ready'), url: z.string(), expires_at: z.string(), rows: z.number().int() }),
      z.object({ status: z.literal('pending'), export_id: z.string() }),
      z.object({ status: z.literal('failed'), export_id: z.string(), error: z.string() }),
    ]),
  })
  .meta({ id: 'ExportStatus' });
