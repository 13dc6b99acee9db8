import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { listKeys, type S3Server } from '../helpers/s3.js';
import type { AgentHost } from '../helpers/agent-host.js';
import { indexTree } from '../../agent/release/tree-index.js';
import type { Report } from '../../agent/report/types.js';
import { record, runCaptured, startFaultRig, type FaultRig } from './harness.js';

/**
 * Disk: the spool is bounded by report.spool_max (the oldest undelivered reports are dropped only past
 * it, with an error log line, a counter in the report and in the metrics), and a disk that fills up
 * during staging leaves the last good release active. The full disk is a real one: a 4 MB tmpfs
 * under state_dir (this runs as root where mounting is allowed; elsewhere the test says so and stops).
 */
let rig: FaultRig;
let s3: S3Server;
let host: AgentHost;
let dist: string;

beforeAll(async () => {
  rig = await startFaultRig('disk');
  ({ s3, host, dist } = rig);
  host.writeConfig({ report: { spool_max: 3 }, metrics: { textfile: join(host.dir, 'agent.prom') } });
}, 60_000);

afterAll(async () => {
  await execa('umount', [join(host.dir, 'small')], { reject: false });
  await rig?.stop();
});

describe('disk', () => {
  it('keeps at most spool_max undelivered reports, drops the oldest loudly and counts it', async () => {
    expect((await runCaptured('disk', host, ['run-now'])).exitCode).toBe(2);
    await s3.stop();
    const outage: Report[] = [];
    let errorLines = 0;
    for (let i = 0; i < 5; i++) {
      const run = await runCaptured('disk', host, ['run-now', '--no-sync', '--json']);
      outage.push(JSON.parse(run.stdout) as Report);
      errorLines += run.stderr.split('\n').filter((line) => line.includes('report spool full')).length;
    }
    const spooled = readdirSync(join(host.stateDir, 'spool')).filter((name) => name.endsWith('.json'));
    const metrics = readFileSync(join(host.dir, 'agent.prom'), 'utf8');
    await s3.restart();
    expect((await runCaptured('disk', host, ['run-now', '--no-sync'])).exitCode).toBe(0);

    const keys = await listKeys(s3.client, 'fleet-reports', 'reports/');
    const delivered = outage.filter((report) => keys.some((key) => key.endsWith(`-${report.run_id}.json`)));
    const droppedIds = outage.filter((report) => !delivered.includes(report)).map((report) => report.run_id);
    const deliveredCounters = await Promise.all(delivered.map(async (report) => (JSON.parse(readFileSync(join(host.stateDir, 'reports', localName(report)), 'utf8')) as Report).spool_dropped ?? 0));
    // only the two oldest may be lost: 5 undelivered, room for 3
    const lostWithinBound = droppedIds.filter((runId) => runId !== outage[0]!.run_id && runId !== outage[1]!.run_id).length;
    record({ scenario: 'spool bounded (spool_max 3, S3 down for 5 runs)', runs: 7, failures: 0, losses: { lost_within_spool_max: lostWithinBound }, note: `dropped ${droppedIds.length} past the bound, ${errorLines} error lines` });
    expect(spooled).toHaveLength(3);
    expect(droppedIds).toEqual([outage[0]!.run_id, outage[1]!.run_id]);
    expect(deliveredCounters).toEqual([0, 1, 1]); // the reports whose spooling dropped one say so
    expect(errorLines).toBe(2);
    expect(metrics).toContain('agent_spool_dropped_total 2');
  }, 180_000);

  it('a disk that fills up while staging leaves the last good release active and applied', async () => {
    const small = join(host.dir, 'small');
    mkdirSync(small, { recursive: true });
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { reject: false });
    if (mounted.exitCode !== 0) {
      record({ scenario: 'disk full while staging', runs: 0, failures: 0, losses: {}, note: `not run: cannot mount a tmpfs here (${mounted.stderr.trim()})` });
      return;
    }
    host.writeConfig({ state_dir: join(small, 'state') });
    expect([0, 2]).toContain((await runCaptured('disk', host, ['run-now'])).exitCode);
    const good = basename(readlinkSync(host.stageDir));
    writeFileSync(join(dist, 'big.bin'), Buffer.alloc(6 * 1024 * 1024, 1));
    try {
      const run = await runCaptured('disk', host, ['run-now', '--json']);
      const report = JSON.parse(run.stdout) as Report;
      const active = readlinkSync(host.stageDir);
      const complete = (await indexTree(active)).releaseId === basename(active);
      const leftovers = readdirSync(join(small, 'state', 'releases')).filter((name) => name.startsWith('.staging-'));
      record({
        scenario: 'disk full while staging (4 MB tmpfs)',
        runs: 2,
        failures: Number(report.apply.release_id !== good),
        losses: { half_applied_trees: Number(!complete || basename(active) !== good), staging_leftovers: leftovers.length },
        note: `source: ${report.source.status}`,
      });
      expect(report.source.status).toBe('unreachable');
      expect(report.source.error).toMatch(/No space left on device/);
      expect(report.apply.release_id).toBe(good);
      expect(run.exitCode).toBe(4);
      expect(basename(active)).toBe(good);
      expect(complete).toBe(true);
      expect(leftovers).toEqual([]);
    } finally {
      rmSync(join(dist, 'big.bin'), { force: true });
    }
  });
});

function localName(report: Report): string {
  return readdirSync(join(host.stateDir, 'reports')).find((name) => name.endsWith(`-${report.run_id}.json`)) ?? '';
}
