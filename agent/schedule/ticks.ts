import type { Log } from '../adapters/log.js';
import { cronIntervalMs, nextCronTime, parseCron } from './cron-times.js';

/**
 * The daemon's cron ticks. Standard expressions run on cron-times.ts and one timer (no node-cron in
 * the idle daemon: see cron-times.ts); anything it does not parse (nicknames, L, W, #) falls back to
 * node-cron, loaded then. A timer never waits more than a minute before looking at the wall clock
 * again, so a clock step (NTP, a resumed VM) delays a tick by a minute at most, and a tick missed while
 * the clock jumped forward fires once, not once per missed slot.
 */
export interface Ticks {
  nextTick(): Date | null;
  /** Shortest gap between ticks (the backoff cap). */
  intervalMs(): number;
  stop(): void;
}

const RECHECK_MS = 60_000;
const FALLBACK_INTERVAL_MS = 5 * 60_000;

export function startTicks(expression: string, onTick: () => void, log: Log, onChange: () => void = () => undefined): Ticks {
  const fields = parseCron(expression);
  if (!fields) return nodeCronTicks(expression, onTick, log, onChange);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let next = nextCronTime(fields, new Date());
  const arm = () => {
    if (stopped || !next) return;
    timer = setTimeout(fire, Math.max(0, Math.min(next.getTime() - Date.now(), RECHECK_MS)));
  };
  const fire = () => {
    if (stopped || !next) return;
    const now = Date.now();
    if (now < next.getTime()) return arm(); // a one-minute look at the clock, not the tick yet
    next = nextCronTime(fields, new Date(Math.max(now, next.getTime())));
    onTick();
    arm();
  };
  arm();
  return {
    nextTick: () => next,
    intervalMs: () => cronIntervalMs(fields, new Date()),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function nodeCronTicks(expression: string, onTick: () => void, log: Log, onChange: () => void): Ticks {
  let stopped = false;
  let task: import('node-cron').ScheduledTask | undefined;
  void import('node-cron').then(({ default: cron }) => {
    if (stopped) return;
    task = cron.createTask(expression, onTick, {
      noOverlap: false,
      logger: { info: () => undefined, warn: (message) => log.warn({ source: 'node-cron' }, message), error: (message) => log.error({ source: 'node-cron' }, String(message)), debug: () => undefined },
    });
    void task.start();
    onChange();
  });
  return {
    nextTick: () => task?.getNextRun() ?? null,
    intervalMs() {
      const runs = task?.getNextRuns(50).map((date) => date.getTime()) ?? [];
      let shortest = Number.POSITIVE_INFINITY;
      for (let i = 1; i < runs.length; i++) shortest = Math.min(shortest, runs[i]! - runs[i - 1]!);
      return Number.isFinite(shortest) ? shortest : FALLBACK_INTERVAL_MS;
    },
    stop() {
      stopped = true;
      void task?.destroy();
    },
  };
}
