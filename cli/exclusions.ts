import { parseArgs } from 'node:util';
import type { z } from 'zod';
import type { ExclusionPlan, ExclusionRunReport } from '../shared/schemas/exclusions';

const USAGE = `usage: clicksieve exclusions plan|apply --property ID [--api URL] [--json]

  plan    prints what the next Google Ads push would change and why (changes nothing)
  apply   runs the push now and prints what it changed (monitor-only and dry-run still change nothing)

  --property ID   the property (prop_…)
  --api URL       the deployment's API (default: $CLICKSIEVE_API_URL)
  --json          print the API's answer as JSON

The property's secret key is read from $CLICKSIEVE_SECRET_KEY (never from the command line, where other
users of the machine could see it).`;

type Plan = z.output<typeof ExclusionPlan>;
type Report = z.output<typeof ExclusionRunReport>;

class UsageError extends Error {}

/** `clicksieve exclusions …`: 0 done, 1 the API refused or some criteria failed, 2 bad usage. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(`${USAGE}\n`);
    return 0;
  }
  try {
    if (command !== 'plan' && command !== 'apply') throw new UsageError(`unknown exclusions command '${command}'`);
    const { values } = parseArgs({
      args: rest,
      options: { property: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
    });
    const property = values.property;
    if (!property || !/^prop_[A-Za-z0-9_-]+$/.test(property)) throw new UsageError('--property prop_… is required');
    const api = (values.api ?? env.CLICKSIEVE_API_URL ?? '').replace(/\/+$/, '');
    if (!/^https?:\/\//.test(api)) throw new UsageError('--api URL (or CLICKSIEVE_API_URL) is required');
    const key = env.CLICKSIEVE_SECRET_KEY;
    if (!key) throw new UsageError('CLICKSIEVE_SECRET_KEY must hold the property’s secret key');

    const path = `/v1/property/${encodeURIComponent(property)}/exclusions/${command}`;
    const response = await fetch(`${api}${path}`, {
      method: command === 'plan' ? 'GET' : 'POST',
      headers: { 'x-api-key': key },
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      process.stderr.write(`clicksieve: ${response.status} ${String(body.error ?? response.statusText)}\n`);
      return 1;
    }
    if (values.json) {
      out(`${JSON.stringify(body, null, 2)}\n`);
    } else if (command === 'plan') out(describePlan(body as unknown as Plan));
    else out(describeReport(body as unknown as Report));
    return command === 'apply' && (body as unknown as Report).failed.length > 0 ? 1 : 0;
  } catch (error) {
    if (!(error instanceof UsageError) && !(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    process.stderr.write(`clicksieve: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
}

const where = (c: { level: string; campaignId?: string }) =>
  c.level === 'account' ? 'account' : `campaign ${c.campaignId ?? '(every campaign that takes IP exclusions)'}`;

function describePlan(plan: Plan): string {
  const lines = [
    `property ${plan.propertyId}: mode ${plan.mode}, account state ${plan.accountState}`,
    ...(plan.accountStateNote ? [`  note: ${plan.accountStateNote}`] : []),
    `room for clicksieve: ${plan.room.account} at account level, ${plan.room.campaign} per campaign`,
  ];
  for (const c of plan.campaigns)
    lines.push(`  campaign ${c.id} ${c.channelType}${c.takesIpExclusions ? '' : ' (account-level exclusions only)'}`);
  lines.push(`add ${plan.add.length}:`);
  for (const a of plan.add)
    lines.push(`  + ${a.value.padEnd(20)} ${where(a).padEnd(14)} score ${a.score ?? '-'}  ${a.reason}`);
  lines.push(`remove ${plan.remove.length}:`);
  for (const r of plan.remove) lines.push(`  - ${r.value.padEnd(20)} ${where(r).padEnd(14)} ${r.reason}`);
  for (const c of plan.collapsed) lines.push(`collapsed ${c.range} <- ${c.addresses.join(', ')}`);
  if (plan.leftOut.length > 0)
    lines.push(`left out for room: ${plan.leftOut.length} (lowest: ${plan.leftOut.at(-1)?.value})`);
  if (plan.manual.length > 0) lines.push(`the advertiser's own exclusions (untouched): ${plan.manual.length}`);
  lines.push(`unchanged: ${plan.unchanged}`);
  return `${lines.join('\n')}\n`;
}

function describeReport(report: Report): string {
  const lines = [
    `run ${report.runId}: mode ${report.mode}, added ${report.added}, removed ${report.removed}, failed ${report.failed.length}`,
  ];
  if (report.mode !== 'apply')
    lines.push(
      `nothing was changed (${report.mode}); the plan was: add ${report.plan.add.length}, remove ${report.plan.remove.length}`,
    );
  for (const f of report.failed)
    lines.push(`  ! ${f.value.padEnd(20)} ${where(f).padEnd(14)} ${f.error} after ${f.attempts} attempt(s)`);
  return `${lines.join('\n')}\n`;
}
