import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { startS3Server, type S3Server } from '../helpers/s3.js';
import { createLocalSourceHost, AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { SANDBOX_TREE } from '../helpers/fixture-trees.js';
import { isSameProcessAlive } from '../../agent/adapters/proc.js';
import { descendantsOf, isAlive } from '../../agent/adapters/process-tree.js';

/** A run killed with -9 in the middle of Puppet: the lock must not block, and its Puppet must not live on. */
let s3: S3Server;
let host: AgentHost;
let dist: string;
let removeHost: () => void;

beforeAll(async () => {
  s3 = await startS3Server();
  ({ host, dist, remove: removeHost } = createLocalSourceHost(s3));
});
afterAll(async () => {
  removeHost?.();
  await s3?.remove();
});

describe('a run killed mid-Puppet', () => {
  it('leaves the release active, and the next run ends the orphaned Puppet and proceeds', async () => {
    expect((await host.run(['run-now'])).exitCode).toBe(2);
    const release = readlinkSync(host.stageDir);
    writeFileSync(join(dist, 'manifests/site.pp'), `${readFileSync(join(dist, 'manifests/site.pp'), 'utf8')}\nexec { 'slow': command => '/bin/sleep 120', timeout => 0 }\n`);

    const victim = execa(process.execPath, [AGENT_BIN, 'run-now', '--config', host.configPath], { env: host.env, reject: false });
    const lockFile = join(host.stateDir, 'run.lock');
    const holder = await waitFor(() => {
      const text = readFileSync(lockFile, 'utf8');
      const parsed = text ? (JSON.parse(text) as { puppet_pgid?: number; puppet_start_time?: string }) : {};
      return parsed.puppet_pgid ? parsed : undefined;
    });
    // wait until Puppet is inside the exec: its `sleep 120` runs in a session of its own, outside Puppet's group
    const sleeping = () => descendantsOf(holder.puppet_pgid!).filter((p) => readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('sleep'));
    await waitFor(() => (sleeping().length > 0 ? true : undefined));
    victim.kill('SIGKILL');
    await victim;
    expect(isSameProcessAlive(holder.puppet_pgid!, holder.puppet_start_time)).toBe(true); // orphaned, still running
    const execs = sleeping();
    expect(execs.length).toBeGreaterThan(0);

    writeFileSync(join(dist, 'manifests/site.pp'), readFileSync(join(SANDBOX_TREE, 'manifests/site.pp'), 'utf8'));
    const next = await host.run(['run-now', '--no-wait']);
    expect(next.exitCode).not.toBe(75);
    expect([0, 2]).toContain(next.exitCode);
    expect(isSameProcessAlive(holder.puppet_pgid!, holder.puppet_start_time)).toBe(false);
    expect(execs.filter(isAlive)).toEqual([]); // and what it had started is gone too
    expect(readlinkSync(host.stageDir)).not.toBe('');
    expect(readFileSync(join(host.stageDir, 'manifests/site.pp'), 'utf8')).not.toContain("exec { 'slow'");
    expect(release).toBeTruthy();
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = probe();
      if (value !== undefined) return value;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
