import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentHost } from '../helpers/agent-host.js';
import type { Report } from '../../agent/report/types.js';
import { processCmdlines, record, registerSecretKey, runCaptured, startFaultRig, type FaultRig } from './harness.js';
import { execa } from 'execa';

/**
 * Hangs: a Puppet that never exits (a stub on PATH for that case only), an ssh/rsync whose server
 * never answers, an after_run hook that never returns. Each is cut off at its configured deadline,
 * with everything it started, and the lock is free for the next run.
 */
let rig: FaultRig;
let host: AgentHost;
let dist: string;
let stubs: string;

/** Markers no other process on the machine uses: the stub's children are found by them. */
const PUPPET_CHILD = 'sleep 86391';
const PUPPET_SESSION_CHILD = 'sleep 86392';
const HOOK_SLEEP = '86393';

beforeAll(async () => {
  rig = await startFaultRig('hangs', { config: { hooks: { timeout: '2s' } } });
  ({ host, dist } = rig);
  stubs = mkdtempSync(join(tmpdir(), 'agent-stub-puppet-'));
  // a Puppet that never finishes, with a child in its group and one in a session of its own (as exec resources are)
  writeFileSync(join(stubs, 'puppet'), `#!/bin/sh\n${PUPPET_CHILD} &\nsetsid ${PUPPET_SESSION_CHILD} &\nexec sleep 86390\n`);
  chmodSync(join(stubs, 'puppet'), 0o755);
  expect((await runCaptured('hangs', host, ['run-now'])).exitCode).toBe(2);
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  rmSync(stubs, { recursive: true, force: true });
});

describe('hangs', () => {
  it('a Puppet that never exits is killed at puppet.timeout with its children; the report says timeout; the lock is free', async () => {
    host.writeConfig({ puppet: { timeout: '3s' } }); // this case only: a real Puppet on a loaded machine may need more
    const started = Date.now();
    const hung = await runCaptured('hangs', host, ['run-now', '--json'], { PATH: `${stubs}:${process.env.PATH}` });
    const seconds = (Date.now() - started) / 1000;
    host.writeConfig({ puppet: { timeout: '30m' } });
    const report = JSON.parse(hung.stdout) as Report;
    const survivors = processesMatching(PUPPET_CHILD).length + processesMatching(PUPPET_SESSION_CHILD).length + processesMatching('sleep 86390').length;
    const next = await runCaptured('hangs', host, ['run-now', '--no-wait']);
    record({
      scenario: 'Puppet never exits (timeout 3s)',
      runs: 2,
      failures: Number(report.apply.status !== 'timeout'),
      losses: { surviving_children: survivors, blocked_runs: Number(next.exitCode === 75) },
      note: `run ended after ${seconds.toFixed(1)} s`,
    });
    expect(report.apply.status).toBe('timeout');
    expect(hung.exitCode).toBe(4);
    expect(survivors).toBe(0);
    expect([0, 2]).toContain(next.exitCode);
    expect(seconds).toBeLessThan(30);
  });

  it('an ssh server that never answers is cut off at source.timeout; the last good release is applied', async () => {
    const silent = await startSilentServer();
    const keyDir = mkdtempSync(join(tmpdir(), 'agent-stall-'));
    // a real private key: the secrets check searches every captured output for its material
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
    registerSecretKey(join(keyDir, 'id'));
    writeFileSync(join(keyDir, 'known_hosts'), '');
    const url = `root@127.0.0.1:/`;
    host.writeConfig({ source: { url, port: silent.port, ssh_key: join(keyDir, 'id'), known_hosts: join(keyDir, 'known_hosts'), timeout: '3s' } });
    try {
      const started = Date.now();
      const stalled = await runCaptured('hangs', host, ['run-now', '--json']);
      const seconds = (Date.now() - started) / 1000;
      const report = JSON.parse(stalled.stdout) as Report;
      const lastGoodApplied = report.apply.status !== 'skipped' && report.apply.release_id !== null;
      record({
        scenario: 'ssh/rsync that stalls (timeout 3s)',
        runs: 1,
        failures: Number(report.source.status !== 'unreachable'),
        losses: { last_good_not_applied: Number(!lastGoodApplied) },
        note: `run ended after ${seconds.toFixed(1)} s`,
      });
      expect(report.source).toMatchObject({ status: 'unreachable', error: expect.stringContaining('timed out after 3s') });
      expect(report.apply.status).not.toBe('skipped');
      expect(silent.connections()).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(30);
    } finally {
      host.writeConfig({ source: { url: dist, port: 22, ssh_key: '/etc/agent/ssh/id_ed25519', known_hosts: '/etc/agent/ssh/known_hosts', timeout: '5m' } });
      await silent.close();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it('an after_run hook that never returns is stopped at hooks.timeout', async () => {
    host.writeConfig({ hooks: { after_run: [['/bin/sleep', HOOK_SLEEP]] } });
    try {
      const started = Date.now();
      const result = await runCaptured('hangs', host, ['run-now']);
      const seconds = (Date.now() - started) / 1000;
      const survivors = processesMatching(`sleep ${HOOK_SLEEP}`).length;
      record({ scenario: 'after_run hook that hangs (timeout 2s)', runs: 1, failures: Number(![0, 2].includes(result.exitCode)), losses: { surviving_hooks: survivors }, note: `run ended after ${seconds.toFixed(1)} s` });
      expect([0, 2]).toContain(result.exitCode);
      expect(survivors).toBe(0);
      expect(seconds).toBeLessThan(30);
    } finally {
      host.writeConfig({ hooks: { after_run: [] } });
    }
  });
});

function processesMatching(cmdline: string): number[] {
  return processCmdlines().filter((process_) => process_.cmdline === cmdline).map(({ pid }) => pid);
}

/** Accepts TCP connections and never says a word: an ssh server hung before its banner. */
async function startSilentServer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => sockets.length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
