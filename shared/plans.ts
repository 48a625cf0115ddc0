import * as z from 'zod';
import planFile from './config/plans.json';

/** Plans are configuration: `shared/config/plans.json` is read by the CDK stack and the local server alike. */
const PlanSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string(),
  ratePerMinute: z.number().int().positive(),
  burst: z.number().int().positive(),
  monthlyAllowance: z.number().int().positive(),
  description: z.string().optional(),
});
export type Plan = z.infer<typeof PlanSchema>;

const PlanFileSchema = z.object({
  branding: z.record(z.string(), z.string()),
  defaultPlan: z.string(),
  plans: z.array(PlanSchema).min(1),
});
type PlanFile = z.infer<typeof PlanFileSchema>;

export const planFileConfig: PlanFile = PlanFileSchema.parse(planFile);

export const plans: readonly Plan[] = planFileConfig.plans;

export function findPlan(id: string): Plan | undefined {
  return plans.find((plan) => plan.id === id);
}

export function defaultPlan(): Plan {
  const plan = findPlan(planFileConfig.defaultPlan);
  if (!plan) throw new Error(`defaultPlan ${planFileConfig.defaultPlan} is not in plans.json`);
  return plan;
}
