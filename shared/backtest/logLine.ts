import { z } from 'zod';
import { ClickToken } from '../schemas/common';

/** One line of a backtest log (API.md "Offline backtest"): the POST /v1/click fields plus time and property. */
const Base = { timestamp: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not a date'), property: z.string() };
const Text = z.string().max(4096);

export const LogLine = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('click'),
    ...Base,
    ip: z.string().max(64),
    user_agent: Text.optional(),
    gclid: Text.optional(),
    page_url: Text.optional(),
    referrer: Text.optional(),
    click_id: Text.optional(),
    visitor_id: Text.optional(),
    click_token: ClickToken.optional(),
  }),
  z.object({
    type: z.literal('conversion'),
    ...Base,
    gclid: Text.optional(),
    click_id: Text.optional(),
    value: z.number().optional(),
  }),
  z.object({
    type: z.literal('beacon'),
    ...Base,
    click_id: Text,
    time_on_page: z.number().min(0).optional(),
    scroll_depth: z.number().min(0).max(100).optional(),
    mouse_entropy: z.number().min(0).optional(),
    honeypot: z.boolean().optional(),
    touch: z.boolean().optional(),
  }),
]);
export type LogLine = z.infer<typeof LogLine>;

export interface ScoredClick {
  readonly click_id: string;
  readonly score_at_click: number;
  readonly label_at_click: string;
  readonly score: number;
  readonly label: string;
  readonly reasons: readonly { rule: string; score: number; details: string }[];
}
