import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPuppet, type PuppetRunInput } from '../../agent/apply/puppet-run.js';
import { parsePuppetReport } from '../../agent/apply/parse-report.js';
import { classifyDrift } from '../../agent/report/drift.js';
import { loadDriftState, saveDriftState } from '../../agent/report/drift-state.js';
import { buildReport } from '../../agent/report/build.js';
import type { Mode, Report } from '../../agent/report/types.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { exec } from '../../agent/adapters/exec.js';
import { silentLog } from '../../agent/adapters/log.js';
import { readProcessStat } from '../../agent/adapters/proc.js';
import { copyTree, SANDBOX_TREE } from '../helpers/fixture-trees.js';

const BROKEN_TREE = new URL('../fixtures/manifests/broken/', import.meta.url).pathname;
const deps = { exec, log: silentLog() };

/** A temp dir with a copy of a fixture tree, a sandbox for it to manage, and the agent's state paths. */
function workspace(fixture = SANDBOX_TREE) {
  const work = mkdtempSync(join(tmpdir(), 'agent-puppet-'));
  const tree = join(work, 'tree');
  copyTree(fixture, tree);
  mkdirSync(join(work, 'sandbox'));
  return { work, tree, sandbox: join(work, 'sandbox'), paths: statePaths({ state_dir: join(work, 'state'), stage_dir: join(work, 'stage') }) };
}

function puppet(space: { tree: string; sandbox: string; paths: StatePaths }, overrides: Partial<PuppetRunInput> & { timeout?: number; bin?: string } = {}) {
  const { timeout = 300_000, bin = 'puppet', ...rest } = overrides;
  return runPuppet(deps, {
    // site/ is not in the tree: only modules/ reaches --modulepath
    config: { puppet: { bin, manifest: 'manifests', modulepath: ['site', 'modules'], mode: 'enforce', timeout, hiera_config: 'hiera.yaml', extra_args: [] } },
    paths: space.paths,
    releaseDir: space.tree,
    mode: 'enforce',
    facts: { sandbox: space.sandbox, agent_roles: 'web', agent_instance_id: 'i-test' },
    ...rest,
  });
}

/** run → parse → classify → report, the way the apply and report stages chain them. */
async function applyAndReport(space: ReturnType<typeof workspace>, mode: Mode, releaseId: string): Promise<{ exitCode: number | null; report: Report }> {
  const run = await puppet(space, { mode });
  const parsed = parsePuppetReport(run.reportYaml!);
  const { drift, nextState } = classifyDrift(parsed, await loadDriftState(space.paths.driftStateFile), { mode, releaseId });
  await saveDriftState(space.paths.driftStateFile, nextState);
  const code = run.exitCode ?? 1;
  const status = code & 4 ? 'failed' : mode === 'enforce' && code & 2 ? 'changed' : 'unchanged';
  const report = buildReport({
    runId: '00000000-0000-4000-8000-000000000000', agentVersion: 'test', trigger: 'run-now', mode,
    instance: { id: 'i-test', hostname: 'h', private_ip: null }, startedAt: new Date(), finishedAt: new Date(), nextDueAt: null,
    source: { type: 'rsync', url_or_bucket: '/x', status: 'unchanged', release_id: releaseId, files_changed: 0, bytes_transferred: 0 },
    apply: { status, release_id: releaseId, puppet_version: run.puppetVersion, puppet_exit_code: run.exitCode, duration_ms: run.durationMs },
    drift, redact: [],
  });
  return { exitCode: run.exitCode, report };
}

describe('puppet apply on the sandbox fixture, run after run', () => {
  let space: ReturnType<typeof workspace>;
  const motd = () => join(space.sandbox, 'managed/motd');
  beforeAll(() => {
    space = workspace();
  });
  afterAll(() => rmSync(space.work, { recursive: true, force: true }));

  it('a first run creates every file: Puppet exit 2, result changed, all intentional', async () => {
    const { exitCode, report } = await applyAndReport(space, 'enforce', 'r1');
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ exit_code: 2, result: 'changed', apply: { status: 'changed', puppet_version: expect.stringMatching(/^7\./) } });
    expect(report.drift).toMatchObject({ resources_total: 4, out_of_sync: 4, intentional: 4, corrective: 0, failed: 0 });
    expect(readFileSync(motd(), 'utf8')).toBe('welcome v1\n');
  });

  it('used the release modulepath and hiera_config', () => {
    const extra = join(space.sandbox, 'managed/extra');
    expect(readFileSync(extra, 'utf8')).toBe('greeting from hiera\n');
    expect(statSync(extra).mode & 0o777).toBe(0o600);
  });

  it("kept Puppet's state under state_dir/puppet, with no per-run report copies", () => {
    expect(existsSync(join(space.paths.puppetDir, 'var/state'))).toBe(true);
    expect(existsSync(join(space.paths.puppetDir, 'last_run_summary.yaml'))).toBe(true);
    expect(existsSync(join(space.paths.puppetDir, 'var/reports'))).toBe(false);
  });

  it('a second run finds nothing to do: exit 0, compliant', async () => {
    const { exitCode, report } = await applyAndReport(space, 'enforce', 'r1');
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ exit_code: 0, result: 'compliant', drift: { out_of_sync: 0, resources_total: 4 } });
  });

  it('noop finds injected drift without touching the file: Puppet exit 0, agent exit 2, drifted, corrective 1', async () => {
    writeFileSync(motd(), 'hacked\n');
    const { exitCode, report } = await applyAndReport(space, 'noop', 'r1');
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ exit_code: 2, result: 'drifted', drift: { out_of_sync: 1, corrective: 1, intentional: 0 } });
    expect(report.drift.resources[0]).toMatchObject({ resource: `File[${motd()}]`, corrective_change: true });
    expect(readFileSync(motd(), 'utf8')).toBe('hacked\n');
    expect(JSON.stringify(report)).not.toMatch(/hacked|welcome/); // file contents never appear in a report
  });

  it('enforce corrects the drift: exit 2, corrected, file restored', async () => {
    const { exitCode, report } = await applyAndReport(space, 'enforce', 'r1');
    expect(exitCode).toBe(2);
    expect(report).toMatchObject({ exit_code: 2, result: 'corrected', drift: { out_of_sync: 1, corrective: 1, intentional: 0 } });
    expect(readFileSync(motd(), 'utf8')).toBe('welcome v1\n');
  });

  it('a changed manifest value in a new release is intentional: exit 2, changed', async () => {
    const sitePp = join(space.tree, 'manifests/site.pp');
    writeFileSync(sitePp, readFileSync(sitePp, 'utf8').replace('welcome v1', 'welcome v2'));
    const { report } = await applyAndReport(space, 'enforce', 'r2');
    expect(report).toMatchObject({ exit_code: 2, result: 'changed', drift: { out_of_sync: 1, corrective: 0, intentional: 1 } });
    expect(readFileSync(motd(), 'utf8')).toBe('welcome v2\n');
  });
});

/** Pids, not zombies, whose command line contains `token`, or that are in process group `pgid`. */
function living(match: { token?: string; pgid?: number }): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
    const stat = readProcessStat(pid);
    if (!stat) return [];
    try {
      const hit = match.token ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(match.token) : stat.pgid === match.pgid;
      return hit ? [Number(pid)] : [];
    } catch {
      return [];
    }
  });
}

async function gone(match: { token?: string; pgid?: number }, withinMs = 5000): Promise<number[]> {
  const deadline = Date.now() + withinMs; // zombies waiting for a busy init do not count, see living()
  while (living(match).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return living(match);
}

describe('puppet apply when it cannot finish', () => {
  const spaces: Array<ReturnType<typeof workspace>> = [];
  const fresh = (fixture?: string) => {
    const space = workspace(fixture);
    spaces.push(space);
    return space;
  };
  afterAll(() => spaces.forEach((space) => rmSync(space.work, { recursive: true, force: true })));

  it("a compile error: Puppet exit 1, its error line, no Facter noise, and no report (the stale one is gone)", async () => {
    const space = fresh(BROKEN_TREE);
    mkdirSync(space.paths.puppetDir, { recursive: true });
    writeFileSync(join(space.paths.puppetDir, 'last_run_report.yaml'), 'status: changed\n'); // a previous run's
    const run = await puppet(space);
    expect(run.exitCode).toBe(1);
    expect(run.reportYaml).toBeNull();
    expect(existsSync(join(space.paths.puppetDir, 'last_run_report.yaml'))).toBe(false);
    expect(run.errorLines).toEqual([expect.stringMatching(/^Error: Could not parse for environment production: Syntax error/)]);
    expect(run.puppetVersion).toBeNull();
  });

  // Puppet runs an exec in a session of its own: killing Puppet's process group alone would leave it running
  const sleeper = (space: ReturnType<typeof workspace>, token: string) =>
    writeFileSync(join(space.tree, 'manifests/site.pp'), `exec { 'sleep': command => '/bin/sleep ${token}' }\n`);

  it('past its timeout Puppet is killed with its process group and the command it was running', async () => {
    const space = fresh();
    const token = `60.${process.pid}1`; // a sleep no other test runs
    sleeper(space, token);
    let pgid = 0;
    let sawSleep = false;
    const spy = setInterval(() => (sawSleep ||= living({ token }).length > 0), 100);
    // long enough for Puppet (1.5-10 s here, under load) to start the sleep before the deadline
    const run = await puppet(space, { timeout: 8000, onSpawn: (pid) => (pgid = pid) }).finally(() => clearInterval(spy));
    expect(sawSleep).toBe(true);
    expect(run).toMatchObject({ timedOut: true, aborted: false, reportYaml: null });
    expect(pgid).toBeGreaterThan(0);
    expect(await gone({ pgid })).toEqual([]);
    expect(await gone({ token })).toEqual([]);
  });

  it('an abort (the daemon stopping) ends Puppet and its command the same way', async () => {
    const space = fresh();
    const token = `60.${process.pid}2`;
    sleeper(space, token);
    const controller = new AbortController();
    const spy = setInterval(() => living({ token }).length > 0 && controller.abort(), 100);
    const run = await puppet(space, { signal: controller.signal, timeout: 40_000 }).finally(() => clearInterval(spy));
    expect(run).toMatchObject({ timedOut: false, aborted: true, reportYaml: null });
    expect(await gone({ token })).toEqual([]);
  });

  it('a missing puppet binary is a clear failure, not a crash', async () => {
    const run = await puppet(fresh(), { bin: '/nonexistent/puppet' });
    expect(run).toMatchObject({ exitCode: null, timedOut: false, reportYaml: null });
    expect(run.errorLines[0]).toMatch(/^could not start \/nonexistent\/puppet: .*ENOENT/);
  });
});
