import { readFileSync, ftruncateSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLockFile, type FileLock } from '../adapters/flock.js';
import { processStartTime, isSameProcessAlive } from '../adapters/proc.js';
import { signalGroup } from '../adapters/exec.js';
import { descendantsOf, signalProcesses } from '../adapters/process-tree.js';
import { AgentError } from '../errors.js';
import type { Log } from '../adapters/log.js';

/**
 * The one lock every run takes (SPEC §6), so Puppet never runs twice at once (`puppet apply` takes
 * no lock of its own). Invariants:
 * - held through flock(2): the kernel drops it when the holder dies, so a dead holder never blocks;
 * - the file's content names the holder (pid + start time, so a reused pid cannot look alive) and,
 *   while Puppet runs, its process group: a run that takes over from a dead one ends that Puppet first;
 * - released by truncating the content, then closing the descriptor.
 */
export interface LockHolder {
  pid: number;
  start_time: string | null;
  started_at: string;
  trigger: string;
  puppet_pgid?: number;
  puppet_start_time?: string | null;
}

export interface RunLock {
  holder: LockHolder;
  recordPuppet(pgid: number): void;
  clearPuppet(): void;
  release(): void;
}

export interface AcquireOptions {
  trigger: string;
  /** 0 = try once (`--no-wait`). */
  waitMs: number;
  signal?: AbortSignal;
  pollMs?: number;
}

export async function acquireRunLock(lockFile: string, log: Log, options: AcquireOptions): Promise<RunLock> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + options.waitMs;
  let announced = false;
  for (;;) {
    const fileLock = await tryLockFile(lockFile);
    if (fileLock) return await takeOver(fileLock, lockFile, log, options.trigger);
    if (Date.now() >= deadline || options.signal?.aborted) {
      const holder = readLockHolder(lockFile);
      const who = holder ? `pid ${holder.pid} (${holder.trigger}, since ${holder.started_at})` : 'another process';
      throw new AgentError('lock_busy', `another run holds ${lockFile}: ${who}`);
    }
    if (!announced) {
      log.info({ lock: lockFile, holder: readLockHolder(lockFile) }, 'waiting for the run lock');
      announced = true;
    }
    await sleep(Math.min(options.pollMs ?? 200, Math.max(deadline - Date.now(), 1)));
  }
}

/** The live holder named in the lock file, or null when no live process holds it. */
export function readLockHolder(lockFile: string): LockHolder | null {
  const holder = parseHolder(lockFile);
  return holder && isSameProcessAlive(holder.pid, holder.start_time) ? holder : null;
}

async function takeOver(fileLock: FileLock, lockFile: string, log: Log, trigger: string): Promise<RunLock> {
  const previous = parseHolder(lockFile);
  if (previous) await endOrphanedPuppet(previous, log);
  const holder: LockHolder = {
    pid: process.pid,
    start_time: processStartTime(process.pid),
    started_at: new Date().toISOString(),
    trigger,
  };
  const write = () => {
    ftruncateSync(fileLock.fd, 0);
    writeSync(fileLock.fd, `${JSON.stringify(holder)}\n`);
  };
  write();
  return {
    holder,
    recordPuppet(pgid) {
      holder.puppet_pgid = pgid;
      holder.puppet_start_time = processStartTime(pgid);
      write();
    },
    clearPuppet() {
      delete holder.puppet_pgid;
      delete holder.puppet_start_time;
      write();
    },
    release() {
      ftruncateSync(fileLock.fd, 0);
      fileLock.release();
    },
  };
}

/** A run killed mid-Puppet leaves Puppet running without a lock: end it before anything else starts. */
async function endOrphanedPuppet(previous: LockHolder, log: Log): Promise<void> {
  const pgid = previous.puppet_pgid;
  if (!pgid || !isSameProcessAlive(pgid, previous.puppet_start_time)) return;
  log.warn({ pgid, previous_pid: previous.pid }, 'ending the Puppet run a dead agent run left behind');
  // read while Puppet lives: its exec resources run in sessions of their own, outside its group
  const descendants = descendantsOf(pgid);
  signalProcesses(descendants, 'SIGTERM');
  signalGroup(pgid, 'SIGTERM');
  for (let waited = 0; waited < 5000 && isSameProcessAlive(pgid, previous.puppet_start_time); waited += 100) {
    await sleep(100);
  }
  signalGroup(pgid, 'SIGKILL');
  signalProcesses(descendants, 'SIGKILL');
  // wait (bounded: a zombie member may linger until its parent reaps it) for the group to be gone
  for (let waited = 0; waited < 5000 && signalGroup(pgid, 0 as unknown as NodeJS.Signals); waited += 50) await sleep(50);
}

function parseHolder(lockFile: string): LockHolder | null {
  try {
    const text = readFileSync(lockFile, 'utf8').trim();
    if (!text) return null;
    const holder = JSON.parse(text) as LockHolder;
    return typeof holder.pid === 'number' ? holder : null;
  } catch {
    return null;
  }
}
