import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/adapters/exec.js';

/**
 * The one deadline mechanism (adapters/exec.ts) on real tiny programs: at the deadline, the child's
 * process group and what it started in a session of its own (as Puppet does for every exec resource)
 * are ended before exec returns.
 */
/** Running: in /proc and not a zombie (a killed orphan may wait a while for init to reap it). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('exec deadline', () => {
  it('ends the child, its group, and a command it started in a session of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-exec-'));
    try {
      // the child starts `sleep` under setsid (a new session, outside the child's group) and records its pid
      const script = `setsid sleep 300 & echo $! > ${dir}/setsid.pid; sleep 0.2; exec sleep 300`;
      const started = Date.now();
      const result = await exec({ file: 'bash', args: ['-c', script], timeoutMs: 1000, killGraceMs: 2000 });
      expect(result.timedOut).toBe(true);
      expect(Date.now() - started).toBeLessThan(5000);
      const escaped = Number(readFileSync(join(dir, 'setsid.pid'), 'utf8'));
      expect(escaped).toBeGreaterThan(0);
      expect(alive(escaped)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an abort does the same, and says it was an abort', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await exec({ file: 'bash', args: ['-c', 'sleep 300'], signal: controller.signal, killGraceMs: 2000 });
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
  });
});
