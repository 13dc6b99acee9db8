/**
 * The daemon's scheduler. Invariants:
 * - at most one run child at a time from here; a run-now from a shell is kept out by the run lock
 *   (the child is started with --no-wait and exits 75: the tick is skipped and logged);
 * - a tick during a run is skipped; a SIGUSR1 during a run is queued and starts when it ends;
 * - every tick starts its run at tick + the host's fixed splay offset;
 * - after a failed run, a retry comes after a capped, fully jittered backoff; a good run resets it;
 * - stop() lets a running child finish for stop_grace, then stops it (TERM: it kills its Puppet group).
 */
import type { Config } from '../config/schema.js';
import type { Log } from '../adapters/log.js';
import type { AgentChild } from '../adapters/spawn-agent.js';
import { splayOffsetMs } from './splay.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { runFailed } from './apply-policy.js';
import { startTicks, type Ticks } from './ticks.js';
import { EXIT_LOCKED } from '../exit-codes.js'; // run-now --no-wait: another run holds the lock

export type RunTrigger = 'schedule' | 'boot' | 'signal';

export interface LoopDeps {
  log: Log;
  startRun(trigger: RunTrigger): AgentChild;
  random?: () => number;
  onNextRunChanged?(nextRunAt: Date | null): void;
}

/** How long a stopped child gets between TERM and KILL. */
const CHILD_KILL_GRACE_MS = 15_000;

export interface DaemonLoop {
  runNow(trigger: RunTrigger): void;
  reconfigure(config: Readonly<Config>, instanceId: string): void;
  nextRunAt(): Date | null;
  stop(graceMs: number): Promise<void>;
}

export function startDaemonLoop(deps: LoopDeps, initial: Readonly<Config>, instanceId: string): DaemonLoop {
  const random = deps.random ?? Math.random;
  let config = initial;
  let offsetMs = splayOffsetMs(instanceId, config.splay);
  let ticks: Ticks | undefined;
  let child: AgentChild | undefined;
  let pending: { timer: NodeJS.Timeout; at: Date } | undefined;
  let failures = 0;
  let stopping = false;
  let queued: RunTrigger | undefined;

  const backoff = (): BackoffPolicy => ({ baseMs: 30_000, capMs: ticks?.intervalMs() ?? 300_000 });
  const announce = () => deps.onNextRunChanged?.(loop.nextRunAt());

  /** Start a run at `at`, unless one is already due sooner. */
  const startAt = (at: Date, trigger: RunTrigger) => {
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      pending = undefined;
      runNow(trigger);
    }, Math.max(at.getTime() - Date.now(), 0));
    pending = { timer, at };
    announce();
  };

  const runNow = (trigger: RunTrigger) => {
    if (stopping) return;
    if (child) {
      if (trigger === 'signal') {
        queued = trigger; // an operator asked: run after this one rather than not at all
        deps.log.info({ trigger }, 'run queued: starts when the current run ends');
      } else {
        deps.log.warn({ trigger }, 'run skipped: the previous run is still going');
      }
      return;
    }
    const started = Date.now();
    const current = deps.startRun(trigger);
    child = current;
    deps.log.info({ trigger, pid: current.pid }, 'run started');
    void current.exited.then((code) => {
      child = undefined;
      const fields = { trigger, exit_code: code, duration_ms: Date.now() - started };
      if (code === EXIT_LOCKED) {
        deps.log.info(fields, 'run skipped: another run (run-now from a shell?) holds the lock');
      } else if (code === null || runFailed(code) || code > 6) {
        failures += 1;
        const delay = backoffDelayMs(failures, backoff(), random);
        deps.log.warn({ ...fields, failures, retry_in_ms: delay }, 'run failed: retrying after backoff');
        if (!stopping) startAt(new Date(Date.now() + delay), 'schedule');
      } else {
        failures = 0;
        deps.log.info(fields, 'run finished');
      }
      if (queued && !stopping) {
        const next = queued;
        queued = undefined;
        runNow(next);
      }
      announce();
    });
  };

  const schedule = () => {
    ticks?.stop();
    ticks = startTicks(config.schedule, () => startAt(new Date(Date.now() + offsetMs), 'schedule'), deps.log, announce);
    deps.log.info({ schedule: config.schedule, splay_offset_ms: offsetMs }, 'scheduled');
    announce();
  };

  const loop: DaemonLoop = {
    runNow,
    reconfigure(next, id) {
      config = next;
      offsetMs = splayOffsetMs(id, config.splay);
      schedule();
    },
    nextRunAt() {
      if (pending) return pending.at;
      const tick = ticks?.nextTick();
      return tick ? new Date(tick.getTime() + offsetMs) : null;
    },
    async stop(graceMs) {
      stopping = true;
      ticks?.stop();
      if (pending) clearTimeout(pending.timer);
      pending = undefined;
      const running = child;
      if (!running) return;
      deps.log.info({ grace_ms: graceMs }, 'waiting for the running run to finish');
      const finished = await Promise.race([running.exited.then(() => true), delay(graceMs).then(() => false)]);
      if (finished) return;
      deps.log.warn({}, 'stop_grace passed: stopping the run');
      running.signal('SIGTERM');
      if (!(await Promise.race([running.exited.then(() => true), delay(CHILD_KILL_GRACE_MS).then(() => false)]))) running.signal('SIGKILL');
      await running.exited;
    },
  };
  schedule();
  return loop;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
