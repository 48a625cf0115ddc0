import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPlan, findPlan, type Plan } from '../../shared/plans';

/**
 * What API Gateway usage plans do before a request reaches a function: per API key a token bucket
 * (rate = ratePerMinute / 60 per second, capacity = burst) and a monthly quota (UTC calendar month).
 * Quota counts live in memory and, with a data directory, in `usage.json` there.
 */
type UsageVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'rate'; readonly retryAfterSeconds: number }
  | { readonly ok: false; readonly reason: 'quota'; readonly plan: Plan };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

interface QuotaFile {
  month: string;
  counts: Record<string, number>;
}

export class UsagePlans {
  private readonly buckets = new Map<string, Bucket>();
  private quota: QuotaFile;
  private dirty = false;
  private readonly flushTimer: NodeJS.Timeout | undefined;
  private readonly file: string | undefined;

  constructor(dataDir?: string) {
    this.file = dataDir ? path.join(dataDir, 'usage.json') : undefined;
    this.quota = this.file && existsSync(this.file) ? readQuota(this.file) : { month: monthOf(Date.now()), counts: {} };
    if (this.file) {
      this.flushTimer = setInterval(() => this.flush(), 1000);
      this.flushTimer.unref();
    }
  }

  /** Counts one request of `key` on plan `planId` (unknown or absent: the default plan). */
  admit(key: string, planId: string | undefined, now = Date.now()): UsageVerdict {
    const plan = (planId && findPlan(planId)) || defaultPlan();
    const month = monthOf(now);
    if (this.quota.month !== month) this.quota = { month, counts: {} };
    const used = this.quota.counts[key] ?? 0;
    if (used >= plan.monthlyAllowance) return { ok: false, reason: 'quota', plan };

    const perMs = plan.ratePerMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: plan.burst, updatedAt: now };
    bucket.tokens = Math.min(plan.burst, bucket.tokens + (now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      return {
        ok: false,
        reason: 'rate',
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
      };
    }
    bucket.tokens -= 1;
    this.quota.counts[key] = used + 1;
    this.dirty = true;
    return { ok: true };
  }

  flush(): void {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, JSON.stringify(this.quota));
    renameSync(temp, this.file);
  }

  close(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flush();
  }
}

const monthOf = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 7);

function readQuota(file: string): QuotaFile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<QuotaFile>;
  return { month: parsed.month ?? monthOf(Date.now()), counts: parsed.counts ?? {} };
}
