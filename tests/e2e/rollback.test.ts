import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { startS3Server } from '../helpers/s3.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { AGENT_BIN, createAgentHost, createLocalSourceHost, type AgentHost } from '../helpers/agent-host.js';
import { layFixtureTree } from '../helpers/fixture-trees.js';
import type { Report } from '../../agent/report/types.js';

/**
 * SPEC §9, "a host never keeps a release that broke it", for a plain publish: a new release whose
 * apply fails where the previous one succeeded is rolled back in the same run, reported with
 * apply.rolled_back_from, and not tried again by the daemon's runs until something newer names it.
 * `--trigger schedule` is what the daemon runs (`agent run-now --trigger schedule --no-wait`).
 */

type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;

async function runNow(host: AgentHost, ...args: string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  const result = await host.run(['run-now', '--json', ...args]);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  } catch {
    throw new Error(`run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
}

const motd = (host: AgentHost) => readFileSync(join(host.sandbox, 'managed/motd'), 'utf8');
const activeRelease = (host: AgentHost) => basename(readlinkSync(host.stageDir));

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', 'releases'] });
}, 60_000);

afterAll(async () => {
  await s3?.remove();
});

describe('local rollback on the rsync source (a plain tree)', () => {
  let fixture: ReturnType<typeof createLocalSourceHost>;
  let good: string;
  let bad: string;

  beforeAll(() => {
    fixture = createLocalSourceHost(s3);
  });
  afterAll(() => fixture?.remove());

  it('applies the good release first', async () => {
    const { exitCode, report } = await runNow(fixture.host, '--trigger', 'schedule');
    expect(exitCode).toBe(2);
    good = report.apply.release_id!;
    expect(motd(fixture.host)).toBe('welcome v1\n');
  });

  it('a new release that fails is rolled back to the previous one in the same run', async () => {
    layFixtureTree(fixture.dist, 'sandbox-failing');
    const { exitCode, report, stderr } = await runNow(fixture.host, '--trigger', 'schedule');
    bad = report.source.release_id!;
    expect(bad).not.toBe(good);
    expect(exitCode & 4).toBe(4);
    expect(report.result).toBe('failed');
    expect(report.apply).toMatchObject({ release_id: good, rolled_back_from: bad, status: 'changed' });
    expect(report.apply.rollback).toMatchObject({ failed_resources: ['Exec[service-that-no-longer-exists]'] });
    expect(stderr).toMatch(/rollback release .* failed where .* had succeeded/);
    expect(activeRelease(fixture.host)).toBe(good);
    expect(motd(fixture.host)).toBe('welcome v1\n'); // the broken release's change is undone by the previous one's apply
    const marks = JSON.parse(readFileSync(join(fixture.host.stateDir, 'failed-releases.json'), 'utf8'));
    expect(marks).toEqual([expect.objectContaining({ release_id: bad, named_by: 'the rsync source' })]);
  });

  it('the daemon does not try that release again while the source still offers it', async () => {
    const { exitCode, report, stderr } = await runNow(fixture.host, '--trigger', 'schedule');
    expect(stderr).toMatch(/held +release .* failed here/);
    expect(report.source.status).toBe('unchanged');
    expect(report.apply.release_id).toBe(good);
    expect(report.apply.rolled_back_from).toBeUndefined();
    expect([0, 2]).toContain(exitCode); // the retry after a failed run applies the good release again
    expect(activeRelease(fixture.host)).toBe(good);
  });

  it('`agent run-now` on the host tries it again (and rolls back again)', async () => {
    const { report } = await runNow(fixture.host);
    expect(report.apply).toMatchObject({ release_id: good, rolled_back_from: bad });
  });

  it('a newer release (the fix) is applied normally', async () => {
    layFixtureTree(fixture.dist, 'sandbox');
    const site = join(fixture.dist, 'manifests/site.pp');
    writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome v3'));
    const { exitCode, report } = await runNow(fixture.host, '--trigger', 'schedule');
    expect(exitCode).toBe(2);
    expect(report.apply.rolled_back_from).toBeUndefined();
    expect(report.apply.release_id).not.toBe(good);
    expect(motd(fixture.host)).toBe('welcome v3\n');
  });

  it('a first release that fails has nothing to roll back to: it stays, and the run fails', async () => {
    const fresh = createLocalSourceHost(s3, { instance_id: 'i-0e2e0000000000f1' });
    try {
      layFixtureTree(fresh.dist, 'sandbox-failing');
      const { exitCode, report } = await runNow(fresh.host, '--trigger', 'schedule');
      expect(exitCode & 4).toBe(4);
      expect(report.apply.rolled_back_from).toBeUndefined();
      expect(report.apply.release_id).toBe(report.source.release_id);
    } finally {
      fresh.remove();
    }
  });
});

describe('local rollback on the S3 source (a plain publish)', () => {
  let proxy: S3Proxy;
  let host: AgentHost;
  let keys: string;
  let tree: string;
  let good: string;
  let bad: string;
  const publish = () =>
    execa(process.execPath, [AGENT_BIN, 'publish', tree, '--key', join(keys, 'release.key'), '--to', 's3://releases/puppet', '--endpoint', s3.endpoint], { reject: false, env: s3.env });

  beforeAll(async () => {
    proxy = await startS3Proxy({ port: s3.port });
    keys = mkdtempSync(join(tmpdir(), 'agent-keys-'));
    tree = layFixtureTree(mkdtempSync(join(tmpdir(), 'agent-tree-')), 'sandbox');
    await execa(process.execPath, [AGENT_BIN, 'keygen', '--out', join(keys, 'release')]);
    host = createAgentHost(
      {
        instance_id: 'i-0e2e0000000000b2',
        source: { type: 's3', bucket: 'releases', prefix: 'puppet', endpoint: proxy.endpoint, force_path_style: true, timeout: '30s' },
        verify: { public_keys: [join(keys, 'release.pub')] },
        report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
      },
      s3.env,
    );
  }, 60_000);

  afterAll(async () => {
    host?.remove();
    rmSync(keys, { recursive: true, force: true });
    rmSync(tree, { recursive: true, force: true });
    await proxy?.stop();
  });

  it('rolls a failing publish back and holds it: the next polls fetch nothing of it', async () => {
    expect((await publish()).exitCode).toBe(0);
    good = (await runNow(host, '--trigger', 'schedule')).report.apply.release_id!;
    layFixtureTree(tree, 'sandbox-failing');
    expect((await publish()).exitCode).toBe(0);
    const rolled = await runNow(host, '--trigger', 'schedule');
    bad = rolled.report.source.release_id!;
    expect(rolled.report.apply).toMatchObject({ release_id: good, rolled_back_from: bad });
    expect(rolled.report.result).toBe('failed');

    proxy.reset();
    const held = await runNow(host, '--trigger', 'schedule');
    expect(held.report.apply.release_id).toBe(good);
    expect(held.report.apply.rolled_back_from).toBeUndefined();
    expect(proxy.requests.map((request) => `${request.method} ${request.status}`)).toEqual(['GET 304', 'GET 404']); // current.json, then plans/current.json (SPEC §10): no plan
    expect(activeRelease(host)).toBe(good);
  });

  it('publishing the same broken tree again names it with the same serial: still held', async () => {
    expect((await publish()).exitCode).toBe(0);
    const { report } = await runNow(host, '--trigger', 'schedule');
    expect(report.apply.release_id).toBe(good);
    expect(activeRelease(host)).toBe(good);
  });

  it('a fixed tree (a newer serial) is applied', async () => {
    layFixtureTree(tree, 'sandbox');
    const site = join(tree, 'manifests/site.pp');
    writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome v3'));
    expect((await publish()).exitCode).toBe(0);
    const { exitCode, report } = await runNow(host, '--trigger', 'schedule');
    expect(exitCode).toBe(2);
    expect(report.apply.rolled_back_from).toBeUndefined();
    expect([good, bad]).not.toContain(report.apply.release_id);
    expect(motd(host)).toBe('welcome v3\n');
  });
});
