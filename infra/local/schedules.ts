import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { type ScheduleId, schedules } from '../../shared/routes';
import { handlerExists, invoke, loadHandler } from './lambda';

/**
 * EventBridge schedules, locally: a timer per schedule of shared/routes.ts, every `localEverySeconds`,
 * invoking its function with a ScheduledEvent. A run still going when the next is due is not overlapped.
 */
const DEFAULT_TIMEOUT_SECONDS = 60;

function scheduledEvent(id: ScheduleId, time = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/clicksieve-${id}`],
    detail: {},
  };
}

/** Runs one schedule's function now (tests, or an impatient operator); rejects when it fails. */
export async function runScheduleNow(id: ScheduleId): Promise<void> {
  const def = schedules[id];
  const timeoutSeconds = 'timeoutSeconds' in def ? def.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS;
  await invoke(loadHandler(def.handler), scheduledEvent(id), id, timeoutSeconds * 1000);
}

interface SchedulesOptions {
  readonly onRun?: (id: ScheduleId, error?: Error) => void;
}

export interface Schedules {
  stop(): Promise<void>;
}

/** Starts a timer per schedule whose function exists; the first run comes one interval after start. */
export function startSchedules(options: SchedulesOptions = {}): Schedules {
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<ScheduleId, Promise<void>>();
  for (const id of Object.keys(schedules) as ScheduleId[]) {
    const def = schedules[id];
    if (!handlerExists(def.handler)) continue;
    const tick = () => {
      if (running.has(id)) return;
      const run = runScheduleNow(id)
        .then(() => options.onRun?.(id))
        .catch((error: Error) => options.onRun?.(id, error))
        .finally(() => running.delete(id));
      running.set(id, run);
    };
    const timer = setInterval(tick, def.localEverySeconds * 1000);
    timer.unref();
    timers.push(timer);
  }
  return {
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
