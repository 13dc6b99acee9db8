import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFileSync, writeFileSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startManifestServer, writeWrongKnownHosts } from '../helpers/sshd.js';
import { startS3Server, listKeys, getText } from '../helpers/s3.js';
import { createAgentHost, type AgentHost } from '../helpers/agent-host.js';
import { SANDBOX_TREE } from '../helpers/fixture-trees.js';
import type { Report } from '../../agent/report/types.js';

/**
 * The core cycle as an operator drives it: the built `agent` binary, a real sshd serving the tree
 * through rrsync, real `puppet apply`, reports in a real S3 API on loopback.
 */
const BUCKET = 'fleet-reports';

type Server = Awaited<ReturnType<typeof startManifestServer>>;
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let server: Server;
let s3: S3;
let host: AgentHost;

function sitePp(): string {
  return join(server.distDir, 'manifests/site.pp');
}

async function runNow(...args: string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  const result = await host.run(['run-now', '--json', ...args]);
  let report: Report;
  try {
    report = JSON.parse(result.stdout) as Report;
  } catch {
    throw new Error(`run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
  return { exitCode: result.exitCode, report, stderr: result.stderr };
}

beforeAll(async () => {
  server = await startManifestServer(SANDBOX_TREE);
  s3 = await startS3Server({ buckets: [BUCKET] });
  host = createAgentHost(
    {
      roles: ['web'],
      source: { url: server.url, ssh_key: server.clientKey, known_hosts: server.knownHosts, port: server.port, timeout: '30s' },
      report: { bucket: BUCKET, endpoint: s3.endpoint, force_path_style: true },
    },
    s3.env,
  );
}, 60_000);

afterAll(async () => {
  host?.remove();
  await server?.remove();
  await s3?.remove();
});

describe('agent run-now against a manifest server and S3', () => {
  it('first run applies the tree: exit 2, changed', async () => {
    const { exitCode, report, stderr } = await runNow();
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ schema: 'agent.report/v1', result: 'changed', exit_code: 2, trigger: 'run-now', mode: 'enforce' });
    expect(report.source.status).toBe('updated');
    expect(report.apply.status).toBe('changed');
    expect(report.drift.intentional).toBeGreaterThan(0);
    expect(report.drift.corrective).toBe(0);
    expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
    expect(readFileSync(join(host.sandbox, 'managed/role'), 'utf8')).toBe('roles=web instance=i-0e2e000000000001\n');
    expect(readlinkSync(host.stageDir)).toBe(join(host.stateDir, 'releases', report.source.release_id!));
    expect(stderr).toMatch(/agent: poll/);
    expect(stderr).toMatch(/agent: apply/);
    expect(stderr).toMatch(/agent: result   changed \(exit 2: changes applied\) in [\d.]+s: \d+ changed \(new in the release\), 0 put back after drift, 0 failed/);
    expect(stderr).toMatch(/changed \(new in this release\)/);
    expect(stderr).not.toMatch(/success|corrective|intentional/);
  });

  it('puts the report in S3 under reports/ and latest/, byte for byte as spooled', async () => {
    const keys = await listKeys(s3.client, BUCKET, '');
    const reportKeys = keys.filter((key) => key.startsWith('reports/dt='));
    expect(reportKeys).toHaveLength(1);
    expect(reportKeys[0]).toMatch(/^reports\/dt=\d{4}-\d{2}-\d{2}\/i-0e2e000000000001\/\d{8}T\d{6}Z-[0-9a-f-]{36}\.json$/);
    expect(keys).toContain('latest/i-0e2e000000000001.json');
    const local = readdirSync(join(host.stateDir, 'reports'));
    expect(local).toHaveLength(1);
    const localBytes = readFileSync(join(host.stateDir, 'reports', local[0]!), 'utf8');
    expect(await getText(s3.client, BUCKET, reportKeys[0]!)).toBe(localBytes);
    expect(readdirSync(join(host.stateDir, 'spool')).filter((name) => name.endsWith('.json'))).toEqual([]);
  });

  it('second run finds nothing to do: exit 0, compliant, source unchanged', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ result: 'compliant', exit_code: 0 });
    expect(report.source.status).toBe('unchanged');
    expect(report.drift.out_of_sync).toBe(0);
  });

  it('noop finds injected drift without touching the file: exit 2, drifted, corrective 1', async () => {
    writeFileSync(join(host.sandbox, 'managed/motd'), 'hacked\n');
    const { exitCode, report, stderr } = await runNow('--noop');
    expect(stderr).toMatch(/managed\/motd\]: content would be put back \(it had drifted from what the last run applied\)/);
    expect(stderr).toMatch(/drifted \(exit 2: drift found, nothing changed \(--noop\)\)/);
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ result: 'drifted', mode: 'noop' });
    expect(report.drift).toMatchObject({ out_of_sync: 1, corrective: 1, intentional: 0 });
    expect(report.drift.resources[0]?.resource).toBe(`File[${join(host.sandbox, 'managed/motd')}]`);
    expect(report.drift.resources[0]?.corrective_change).toBe(true);
    expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('hacked\n');
    expect(JSON.stringify(report)).not.toContain('hacked'); // file contents never appear in a report
  });

  it('enforce corrects the drift: exit 2, corrected, file restored', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ result: 'corrected' });
    expect(report.drift).toMatchObject({ corrective: 1, intentional: 0 });
    expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
  });

  it('a manifest change on the server is applied as intentional: exit 2, changed', async () => {
    writeFileSync(sitePp(), readFileSync(sitePp(), 'utf8').replace('welcome v1', 'welcome v2'));
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ result: 'changed' });
    expect(report.source.status).toBe('updated');
    expect(report.drift).toMatchObject({ out_of_sync: 1, intentional: 1, corrective: 0 });
    expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v2\n');
  });

  it("a Puppet syntax error fails the run (exit 4, Puppet's error in the report) and the host rolls back to the release that worked", async () => {
    const good = readFileSync(sitePp(), 'utf8');
    const before = await runNow();
    writeFileSync(sitePp(), `${good}\nfile { 'broken' \n`);
    try {
      const { exitCode, report } = await runNow();
      expect(exitCode).toBe(4);
      expect(report).toMatchObject({ result: 'failed', exit_code: 4 });
      // SPEC §9: the broken release failed where the one it replaced had succeeded, so that one is applied again
      expect(report.apply.rolled_back_from).toBe(report.source.release_id);
      expect(report.apply.release_id).toBe(before.report.apply.release_id);
      expect(report.apply.rollback).toMatchObject({ status: 'failed', puppet_exit_code: 1 });
      expect(report.apply.rollback?.error).toMatch(/Error: .*(Syntax error|Could not parse)/i);
      expect(report.drift.out_of_sync).toBe(0);
    } finally {
      writeFileSync(sitePp(), good);
    }
  });

  it('with the source down, applies the last good release: exit 4, source unreachable', async () => {
    const healthy = await runNow();
    expect(healthy.report.result).toBe('compliant'); // the repaired tree is the release the host rolled back to
    await server.stop();
    try {
      writeFileSync(join(host.sandbox, 'managed/motd'), 'drifted while the server was down\n');
      const { exitCode, report, stderr } = await runNow();
      expect(report.source.status).toBe('unreachable');
      expect(report.source.release_id).toBeNull();
      expect(report.source.error).toMatch(/rsync from .* failed/);
      expect(report.apply.release_id).toBe(healthy.report.apply.release_id);
      expect(report.drift.corrective).toBe(1);
      expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v2\n');
      expect(report.result).toBe('failed');
      expect(exitCode).toBe(6); // drift corrected (2) + source failed (4)
      expect(stderr).toMatch(/using the last good release/);
    } finally {
      await server.start();
    }
  });

  it('with S3 down, spools the report and the next run delivers it byte for byte', async () => {
    await s3.stop();
    let spooledRunId: string;
    try {
      const { report, stderr } = await runNow();
      spooledRunId = report.run_id;
      expect(stderr).toMatch(/waiting in the spool/);
      const spooled = readdirSync(join(host.stateDir, 'spool')).filter((name) => name.endsWith('.json'));
      expect(spooled).toHaveLength(1);
      expect(spooled[0]).toContain(report.run_id);
    } finally {
      await s3.restart();
    }
    const spoolFile = readdirSync(join(host.stateDir, 'spool')).find((name) => name.endsWith('.json'))!;
    const spooledBytes = readFileSync(join(host.stateDir, 'spool', spoolFile), 'utf8');
    await runNow();
    expect(readdirSync(join(host.stateDir, 'spool')).filter((name) => name.endsWith('.json'))).toEqual([]);
    const key = (await listKeys(s3.client, BUCKET, 'reports/')).find((name) => name.includes(spooledRunId));
    expect(key).toBeDefined();
    expect(await getText(s3.client, BUCKET, key!)).toBe(spooledBytes);
    const latest = JSON.parse(await getText(s3.client, BUCKET, 'latest/i-0e2e000000000001.json')) as Report;
    expect(latest.run_id).not.toBe(spooledRunId); // the later run's report stays the latest
  });

  it('refuses a manifest server whose host key is not the pinned one', async () => {
    const wrong = join(host.dir, 'wrong_known_hosts');
    writeWrongKnownHosts(wrong, server.port);
    host.writeConfig({ source: { known_hosts: wrong } });
    try {
      const { exitCode, report } = await runNow();
      expect(report.source.status).toBe('unreachable');
      expect(report.source.error).toMatch(/Host key verification failed/);
      expect(exitCode === 1 || (exitCode & 4) === 4).toBe(true); // 1 when no release was ever activated
    } finally {
      host.writeConfig({ source: { known_hosts: server.knownHosts } });
    }
  });

  it('never runs twice at once: --no-wait exits 75 while a run holds the lock', async () => {
    const first = host.run(['run-now']);
    await waitFor(() => existsSync(join(host.stateDir, 'run.lock')) && readFileSync(join(host.stateDir, 'run.lock'), 'utf8').length > 0);
    const second = await host.run(['run-now', '--no-wait']);
    expect(second.exitCode).toBe(75);
    expect(second.stderr).toMatch(/another run holds .*run\.lock: pid \d+ \(run-now/);
    expect((await first).exitCode).toBe(0);
  });

  it('a waiting run-now runs after the holder, never beside it', async () => {
    const [a, b] = await Promise.all([host.run(['run-now', '--json']), host.run(['run-now', '--json', '--wait', '2m'])]);
    const reports = [a, b].map((run) => JSON.parse(run.stdout) as Report).sort((x, y) => x.started_at.localeCompare(y.started_at));
    expect(Date.parse(reports[1]!.started_at)).toBeGreaterThanOrEqual(Date.parse(reports[0]!.finished_at));
  });

  it('--no-sync applies the active release without asking the source', async () => {
    await server.stop();
    try {
      const { exitCode, report } = await runNow('--no-sync');
      expect(exitCode).toBe(0);
      expect(report.source.status).toBe('skipped');
      expect(report.result).toBe('compliant');
    } finally {
      await server.start();
    }
  });

  it('status shows the last run, the last apply and the spool', async () => {
    const result = await host.run(['status', '--json']);
    expect(result.exitCode).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status).toMatchObject({
      schema: 'agent.status/v1',
      last_run: { result: 'compliant', exit_code: 0, trigger: 'run-now' },
      last_apply: { result: 'compliant' },
      lock: null,
      spool: { count: 0, oldest_at: null },
    });
    const human = await host.run(['status']);
    expect(human.stdout).toMatch(/last run: +compliant \(exit 0: nothing to change\), \d+ s ago, run-now;/);
    expect(human.stdout).toMatch(/last apply: +the last run \(it applied\)/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
