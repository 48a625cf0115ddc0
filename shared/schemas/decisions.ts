import * as z from 'zod';
import { Action, ClickToken, Label, Reason, VisitorId } from './common';

export const DecisionQuery = z.object({ visitorId: VisitorId });
export const Decision = z
  .object({ score: z.number().int().min(0).max(100), label: Label, action: Action, reasons: z.array(Reason) })
  .meta({
    id: 'Decision',
    description:
      "The visitor judged by its latest and its worst click. A FRAUD click is the visitor's worst before its answer is sent; a worse SUSPICIOUS one is recorded by the click counter within seconds.",
  });

export const IpCheckQuery = z.object({
  token: z.string().max(256).optional(),
  ip: z.string().min(1).max(64),
  user_http_header: z.string().max(2048).optional(),
});
export const IpCheck = z
  .object({
    trusted_ai_score: z.enum(['Safe', 'Suspicious', 'Fake']),
    proxy: z.boolean(),
    tor: z.boolean(),
    vpn: z.boolean(),
    crawler: z.boolean(),
    bot: z.boolean(),
  })
  .meta({ id: 'IpCheck' });

export const BotVerdictQuery = z.object({ click_token: ClickToken });
export const BotLevel = z.enum(['low', 'medium', 'high', 'critical']);
export const BotAction = z.enum(['record_only', 'flag', 'challenge', 'block']);
export const BotVerdict = z
  .object({
    code: z.literal(0),
    data: z.object({
      is_bot: z.boolean(),
      score: z.number().int().min(0).max(100),
      level: BotLevel,
      action: BotAction,
      consistency: z.object({ ok: z.boolean() }).catchall(z.unknown()),
      degraded: z.boolean(),
    }),
  })
  .meta({ id: 'BotVerdict' });
