import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireRunLock, readLockHolder } from '../../agent/lock/run-lock.js';
import { processStartTime, isSameProcessAlive } from '../../agent/adapters/proc.js';
import { silentLog } from '../../agent/adapters/log.js';
import { AgentError } from '../../agent/errors.js';

const log = silentLog();
let dir: string;
let lockFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-lock-'));
  lockFile = join(dir, 'run.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A separate process that takes the lock through the same (built: `npm test` builds first) code and holds it until killed. */
function holdLockInChild(extra = ''): Promise<{ pid: number; kill: () => void }> {
  const script = `
    import { acquireRunLock } from ${JSON.stringify(new URL('../../dist/agent/lock/run-lock.js', import.meta.url).pathname)};
    import { pino } from 'pino';
    const lock = await acquireRunLock(${JSON.stringify(lockFile)}, pino({ level: 'silent' }), { trigger: 'schedule', waitMs: 0 });
    ${extra}
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: new URL('../..', import.meta.url).pathname,
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', () => resolve({ pid: child.pid!, kill: () => child.kill('SIGKILL') }));
    child.on('exit', (code, signal) => reject(new Error(`lock holder exited ${code ?? signal}`)));
  });
}

describe('the run lock', () => {
  it('is exclusive: a second taker gets lock_busy naming the holder', async () => {
    const first = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 0 });
    // a second open file description in this same process is refused like any other process
    await expect(acquireRunLock(lockFile, log, { trigger: 'schedule', waitMs: 0 })).rejects.toThrow(
      new RegExp(`another run holds .*pid ${process.pid} \\(run-now`),
    );
    first.release();
    const second = await acquireRunLock(lockFile, log, { trigger: 'schedule', waitMs: 0 });
    second.release();
  });

  it('waits for the holder to release it when given time', async () => {
    const first = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 0 });
    setTimeout(() => first.release(), 300);
    const started = Date.now();
    const second = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 5000, pollMs: 50 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    second.release();
  });

  it('gives up after the wait with lock_busy', async () => {
    const first = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 0 });
    const error = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 300, pollMs: 50 }).catch((e) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('lock_busy');
    first.release();
  });

  it('is free again the moment its holder is killed -9', async () => {
    const holder = await holdLockInChild();
    expect(readLockHolder(lockFile)?.pid).toBe(holder.pid);
    holder.kill();
    await sleep(200);
    expect(readLockHolder(lockFile)).toBeNull();
    const lock = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 0 });
    lock.release();
  });

  it('does not mistake a reused pid for the dead holder', () => {
    // a lock file left by a process whose pid now belongs to someone else (here: this process)
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, start_time: '1', started_at: 'x', trigger: 'schedule' }));
    expect(readLockHolder(lockFile)).toBeNull();
    expect(isSameProcessAlive(process.pid, processStartTime(process.pid))).toBe(true);
  });

  it('ends the Puppet process group a killed holder left behind before the next run starts', async () => {
    // the holder starts a stand-in for Puppet in its own process group and records it, as a run does
    const holder = await holdLockInChild(`
      const { spawn } = await import('node:child_process');
      const puppet = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
      lock.recordPuppet(puppet.pid);
    `);
    const orphan = JSON.parse((await import('node:fs')).readFileSync(lockFile, 'utf8')) as { puppet_pgid: number };
    holder.kill();
    await sleep(100);
    expect(isSameProcessAlive(orphan.puppet_pgid, null)).toBe(true);
    const lock = await acquireRunLock(lockFile, log, { trigger: 'run-now', waitMs: 0 });
    await sleep(100);
    expect(isSameProcessAlive(orphan.puppet_pgid, null)).toBe(false);
    lock.release();
  });
});
