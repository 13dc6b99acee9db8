import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPuppet } from '../../agent/apply/puppet-run.js';
import { parsePuppetReport } from '../../agent/apply/parse-report.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { exec } from '../../agent/adapters/exec.js';
import { silentLog } from '../../agent/adapters/log.js';
import { readdirSync } from 'node:fs';

/** Pids in process group `pgid` that are not zombies, from /proc. */
function livingGroupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return fields[0] !== 'Z' && Number(fields[2]) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const FIXTURE = new URL('../fixtures/trees/e2e/', import.meta.url).pathname;
const deps = { exec, log: silentLog() };
let work: string;
let tree: string;
let sandbox: string;
let paths: StatePaths;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'agent-puppet-'));
  tree = join(work, 'tree');
  sandbox = join(work, 'sandbox');
  mkdirSync(sandbox);
  cpSync(FIXTURE, tree, { recursive: true });
  paths = statePaths({ state_dir: join(work, 'state'), stage_dir: join(work, 'stage') });
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const puppet = (overrides: { timeout?: number; mode?: 'enforce' | 'noop'; onSpawn?: (pgid: number) => void } = {}) =>
  runPuppet(deps, {
    config: { puppet: { bin: 'puppet', manifest: 'manifests', modulepath: 'modules', mode: 'enforce', timeout: overrides.timeout ?? 120_000, hiera_config: '', extra_args: [] } },
    paths,
    releaseDir: tree,
    mode: overrides.mode ?? 'enforce',
    facts: { sandbox, agent_roles: 'web', agent_instance_id: 'i-test' },
    onSpawn: overrides.onSpawn,
  });

describe('puppet apply with isolated state', () => {
  it('applies, writes its report under state_dir/puppet, and leaves the host state alone', async () => {
    const run = await puppet();
    expect(run.exitCode).toBe(2);
    expect(run.timedOut).toBe(false);
    expect(readFileSync(join(sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
    expect(parsePuppetReport(run.reportYaml!).status).toBe('changed');
    expect(existsSync(join(paths.puppetDir, 'var/state'))).toBe(true);
    expect(run.errorLines.filter((line) => line.includes('Facter'))).toEqual([]);
  });

  it('noop exits 0 and changes nothing even with drift', async () => {
    await puppet();
    writeFileSync(join(sandbox, 'managed/motd'), 'drift\n');
    const run = await puppet({ mode: 'noop' });
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(sandbox, 'managed/motd'), 'utf8')).toBe('drift\n');
    expect(parsePuppetReport(run.reportYaml!).noopPending).toBe(true);
  });

  it('a compile error leaves no report, not even the previous one', async () => {
    await puppet();
    writeFileSync(join(tree, 'manifests/site.pp'), "file { 'broken' \n");
    const run = await puppet();
    expect(run.exitCode).toBe(1);
    expect(run.reportYaml).toBeNull();
    expect(run.errorLines.join('\n')).toMatch(/^Error: Could not parse|Syntax error/m);
  });

  it('a Puppet past its timeout is killed with its whole process group', async () => {
    writeFileSync(join(tree, 'manifests/site.pp'), "exec { 'hang': command => '/bin/sleep 300', timeout => 0 }\n");
    let pgid = 0;
    const run = await puppet({ timeout: 4000, onSpawn: (pid) => (pgid = pid) });
    expect(run.timedOut).toBe(true);
    expect(run.reportYaml).toBeNull();
    expect(pgid).toBeGreaterThan(0);
    // the sleep Puppet started went with it (zombies waiting for a busy init to reap them do not count)
    const deadline = Date.now() + 5000;
    while (livingGroupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(livingGroupMembers(pgid)).toEqual([]);
  });

  it('a missing puppet binary is a clear failure, not a crash', async () => {
    const run = await runPuppet(deps, {
      config: { puppet: { bin: '/nonexistent/puppet', manifest: 'manifests', modulepath: 'modules', mode: 'enforce', timeout: 10_000, hiera_config: '', extra_args: [] } },
      paths,
      releaseDir: tree,
      mode: 'enforce',
      facts: {},
    });
    expect(run.reportYaml).toBeNull();
    expect(run.errorLines[0]).toMatch(/could not start \/nonexistent\/puppet/);
  });
});
