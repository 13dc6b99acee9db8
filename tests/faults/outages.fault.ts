import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { listKeys, getText, type S3Server } from '../helpers/s3.js';
import type { S3Proxy } from '../helpers/s3-proxy.js';
import type { AgentHost } from '../helpers/agent-host.js';
import type { Report } from '../../agent/report/types.js';
import { record, runCaptured, startFaultRig, type FaultRig } from './harness.js';

/**
 * Outages: S3 down for ten runs, the manifest source down, both at once, and S3 throttling now and
 * then. Reports all arrive, in order, byte for byte; a dead source still gets the last good release
 * applied and says so in the report; retries never leave a duplicate.
 */
let rig: FaultRig;
let s3: S3Server;
let proxy: S3Proxy;
let host: AgentHost;
let dist: string;
let goodRelease: string;

const run = async (...args: string[]) => {
  const result = await runCaptured('outages', host, ['run-now', '--json', ...args]);
  return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report };
};
const reportKeys = () => listKeys(s3.client, 'fleet-reports', 'reports/');
const localCopies = () => readdirSync(join(host.stateDir, 'reports')).filter((name) => name.endsWith('.json')).sort();

beforeAll(async () => {
  rig = await startFaultRig('outages', { proxy: true });
  ({ s3, host, dist } = rig);
  proxy = rig.proxy!;
  const first = await run();
  expect(first.exitCode).toBe(2);
  goodRelease = first.report.apply.release_id!;
}, 60_000);

afterAll(() => rig?.stop());

describe('outages', () => {
  it('S3 down for 10 runs, then back: 10 of 10 reports delivered, oldest first, byte for byte', async () => {
    await s3.stop();
    const runIds: string[] = [];
    for (let i = 0; i < 10; i++) runIds.push((await run('--no-sync')).report.run_id);
    expect(readdirSync(join(host.stateDir, 'spool')).filter((name) => name.endsWith('.json'))).toHaveLength(10);
    await s3.restart();
    proxy.reset();
    runIds.push((await run('--no-sync')).report.run_id);

    const keys = await reportKeys();
    const lost = runIds.filter((runId) => !keys.some((key) => key.endsWith(`-${runId}.json`))).length;
    // the position of each uploaded report among the runs: delivery must follow the order the runs ran in
    const order = proxy.requests
      .filter((request) => request.method === 'PUT' && request.path.includes('/reports/'))
      .map((request) => runIds.findIndex((runId) => request.path.endsWith(`-${runId}.json`)));
    const outOfOrder = order.filter((position, index) => index > 0 && position < order[index - 1]!).length;
    let notIdentical = 0;
    for (const name of localCopies()) {
      const key = keys.find((candidate) => candidate.endsWith(`/${name}`));
      if (key && (await getText(s3.client, 'fleet-reports', key)) !== readFileSync(join(host.stateDir, 'reports', name), 'utf8')) notIdentical++;
    }
    record({ scenario: 'S3 down for 10 runs, then back', runs: 11, failures: 0, losses: { lost_reports: lost, out_of_order: outOfOrder, not_byte_identical: notIdentical } });
    expect({ lost, outOfOrder, notIdentical }).toEqual({ lost: 0, outOfOrder: 0, notIdentical: 0 });
    expect(order).toHaveLength(11);
  }, 300_000);

  it('manifest source down: the last good release is applied, and the report says the source was unreachable', async () => {
    renameSync(dist, `${dist}.away`);
    try {
      const { exitCode, report } = await run();
      const wrong = Number(exitCode !== 4) + Number(report.source.status !== 'unreachable') + Number(report.apply.release_id !== goodRelease);
      record({ scenario: 'manifest source down', runs: 1, failures: 0, losses: { last_good_not_applied: wrong } });
      expect(report.source).toMatchObject({ status: 'unreachable', error: expect.stringContaining('rsync') });
      expect(report.apply).toMatchObject({ status: 'unchanged', release_id: goodRelease });
      expect(exitCode).toBe(4);
    } finally {
      renameSync(`${dist}.away`, dist);
    }
  });

  it('both down at once: last good release applied, the report spooled, delivered when S3 is back', async () => {
    renameSync(dist, `${dist}.away`);
    await s3.stop();
    let runId: string;
    try {
      const { exitCode, report } = await run();
      expect(exitCode).toBe(4);
      expect(report.apply.release_id).toBe(goodRelease);
      runId = report.run_id;
    } finally {
      renameSync(`${dist}.away`, dist);
      await s3.restart();
    }
    await run('--no-sync');
    const lost = (await reportKeys()).some((key) => key.endsWith(`-${runId}.json`)) ? 0 : 1;
    record({ scenario: 'manifest source and S3 down at once', runs: 2, failures: 0, losses: { lost_reports: lost } });
    expect(lost).toBe(0);
  });

  it('S3 throttling (503 SlowDown) now and then: retried with backoff, every report exactly once', async () => {
    const before = (await reportKeys()).length;
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      proxy.failNext(1 + (i % 2), { method: 'PUT' }); // one or two throttled PUTs per run: within the SDK's retries
      runIds.push((await run('--no-sync')).report.run_id);
    }
    const keys = await reportKeys();
    const copies = runIds.map((runId) => keys.filter((key) => key.endsWith(`-${runId}.json`)).length);
    const lost = copies.filter((count) => count === 0).length;
    const duplicates = copies.filter((count) => count > 1).length + (keys.length - before - runIds.length);
    const throttled = proxy.requests.filter((request) => request.outcome === 'SlowDown').length;
    record({ scenario: 'S3 throttling (503 SlowDown)', runs: runIds.length, failures: 0, losses: { lost_reports: lost, duplicates }, note: `${throttled} PUTs throttled` });
    expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 });
    expect(throttled).toBeGreaterThanOrEqual(6);
  }, 180_000);
});
