/**
 * Puppet's deadline (puppet.timeout) and the caller's abort (daemon stopping), as one AbortSignal for
 * deps.exec, which then TERMs Puppet's process group and KILLs it after the grace.
 *
 * Why not exec's own timeoutMs: Puppet starts every `exec` resource in a session of its own
 * (Process.setsid), outside its process group. Killed Puppet leaves such a command running, reparented
 * to init (seen on 7.23: `sleep` outlived a TERMed Puppet). So just before the abort, while Puppet is
 * still alive to be their ancestor, its descendants are looked up and get the same TERM, then KILL
 * once the grace is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { descendantsOf, isAlive, signalProcesses, type ProcessId } from '../adapters/process-tree.js';

export interface PuppetWatch {
  /** Give this to deps.exec. */
  signal: AbortSignal;
  /** Give this Puppet's pid (exec's onSpawn). */
  spawned(pid: number): void;
  /** Whether the deadline, rather than the caller, stopped Puppet. */
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** After Puppet has exited: stops the timer and makes sure no descendant outlives the grace. */
  finish(): Promise<void>;
}

const POLL_MS = 100;

export function watchPuppet(options: { timeoutMs: number; graceMs: number; signal?: AbortSignal }): PuppetWatch {
  const controller = new AbortController();
  let pid: number | undefined;
  let why: 'timeout' | 'abort' | null = null;
  let stoppedAt = 0;
  let leftovers: ProcessId[] = [];
  const stop = (reason: 'timeout' | 'abort') => {
    if (why !== null) return;
    why = reason;
    stoppedAt = Date.now();
    leftovers = pid === undefined ? [] : descendantsOf(pid);
    signalProcesses(leftovers, 'SIGTERM');
    controller.abort();
  };
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  const onAbort = () => stop('abort');
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    spawned: (spawnedPid) => {
      pid = spawnedPid;
    },
    get timedOut() {
      return why === 'timeout';
    },
    get aborted() {
      return why === 'abort';
    },
    async finish() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      while (leftovers.some(isAlive) && Date.now() - stoppedAt < options.graceMs) await sleep(POLL_MS);
      signalProcesses(leftovers, 'SIGKILL');
    },
  };
}
