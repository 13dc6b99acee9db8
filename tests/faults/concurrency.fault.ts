import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { capture, record, startFaultRig, type FaultRig } from './harness.js';

/**
 * 20 `run-now` at once (half waiting for the lock, half --no-wait) while the daemon runs its own
 * schedule every 2 seconds. Real Puppet runs behind a wrapper that logs when each one starts and
 * stops: no two intervals may overlap, and a --no-wait that did not get the lock exits 75.
 */
const SCENARIO = '20 run-now at once + the daemon';
let rig: FaultRig;
let host: AgentHost;
let puppetLog: string;

beforeAll(async () => {
  rig = await startFaultRig('concurrency', {
    // every tick of the daemon applies too (drift_check_every 1s), so its runs contend for Puppet as well
    config: { schedule: '*/2 * * * * *', splay: '0', drift_check_every: '1s', stop_grace: '30s', instance_id: 'i-0fa17c0ncurrency' },
  });
  host = rig.host;
  puppetLog = join(host.dir, 'puppet-intervals.log');
  const wrapper = join(host.dir, 'puppet-wrapper');
  // the real Puppet, timed from outside: start and stop with nanoseconds, keyed by the wrapper's pid
  writeFileSync(wrapper, `#!/bin/sh\necho "start $(date +%s.%N) $$" >> ${puppetLog}\npuppet "$@"\ncode=$?\necho "stop $(date +%s.%N) $$" >> ${puppetLog}\nexit $code\n`);
  chmodSync(wrapper, 0o755);
  host.writeConfig({ puppet: { bin: wrapper }, metrics: { textfile: '' } });
}, 60_000);

afterAll(() => rig?.stop());

describe(SCENARIO, () => {
  it('Puppet never runs twice at the same time; --no-wait runs that found the lock held exit 75', async () => {
    // the daemon lets a running run finish for stop_grace (30 s) on SIGTERM: execa must not SIGKILL it after its default 5 s
    const daemon = execa(process.execPath, [AGENT_BIN, 'daemon', '--config', host.configPath], { env: host.env, reject: false, all: true, forceKillAfterDelay: 60_000 });
    try {
      const runs = Array.from({ length: 20 }, (_, index) => {
        const args = index % 2 === 0 ? ['--wait', '3m'] : ['--no-wait'];
        return execa(process.execPath, [AGENT_BIN, 'run-now', ...args, '--config', host.configPath], { env: host.env, reject: false }).then((result) => {
          capture('concurrency', { stdout: String(result.stdout), stderr: String(result.stderr) });
          return { noWait: index % 2 === 1, exitCode: result.exitCode ?? -1 };
        });
      });
      const results = await Promise.all(runs);
      // let the daemon's schedule keep trying for a few more ticks on its own
      await new Promise((resolve) => setTimeout(resolve, 4000));
      daemon.kill('SIGTERM');
      const stopped = await daemon;
      capture('concurrency', { stdout: String(stopped.all ?? ''), stderr: '' });

      const intervals = puppetIntervals();
      const overlaps = intervals.filter((interval, index) => index > 0 && interval.start < intervals[index - 1]!.stop).length;
      const waited = results.filter((result) => !result.noWait);
      const noWait = results.filter((result) => result.noWait);
      const unexpected = waited.filter((result) => ![0, 2].includes(result.exitCode)).length + noWait.filter((result) => ![0, 2, 75].includes(result.exitCode)).length;
      const locked = noWait.filter((result) => result.exitCode === 75).length;
      record({
        scenario: SCENARIO,
        runs: results.length,
        failures: unexpected,
        losses: { overlapping_puppet_runs: overlaps },
        note: `${intervals.length} Puppet runs timed; ${locked} of 10 --no-wait exited 75; daemon exit ${stopped.exitCode}`,
      });
      expect(overlaps).toBe(0);
      expect(unexpected).toBe(0);
      expect(intervals.length).toBeGreaterThanOrEqual(10); // every waiting run applied
      expect(locked).toBeGreaterThan(0);
      expect(stopped.exitCode).toBe(0);
    } finally {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
  }, 400_000);
});

/** Puppet's [start, stop] intervals from the wrapper's log, sorted by start. */
function puppetIntervals(): Array<{ start: number; stop: number }> {
  if (!existsSync(puppetLog)) return [];
  const starts = new Map<string, number>();
  const intervals: Array<{ start: number; stop: number }> = [];
  for (const line of readFileSync(puppetLog, 'utf8').split('\n').filter(Boolean)) {
    const [event, time, pid] = line.split(' ');
    if (event === 'start') starts.set(pid!, Number(time));
    else if (starts.has(pid!)) intervals.push({ start: starts.get(pid!)!, stop: Number(time) });
  }
  return intervals.sort((a, b) => a.start - b.start);
}
