import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startManifestServer, writeWrongKnownHosts, type ManifestServer } from '../helpers/sshd.js';
import { freePort } from '../helpers/ports.js';
import { fetchRsyncRelease } from '../../agent/source/rsync.js';
import { activateRelease } from '../../agent/release/activate.js';
import { indexTree } from '../../agent/release/tree-index.js';
import { statePaths } from '../../agent/run/paths.js';
import { parseConfig } from '../../agent/config/load.js';
import { exec } from '../../agent/adapters/exec.js';
import { silentLog } from '../../agent/adapters/log.js';
import { AgentError } from '../../agent/errors.js';
import type { ActiveRelease } from '../../agent/source/types.js';

const FIXTURE = new URL('../fixtures/trees/e2e/', import.meta.url).pathname;
const deps = { exec, log: silentLog() };
let server: ManifestServer;
let work: string;

beforeAll(async () => {
  server = await startManifestServer();
  cpSync(FIXTURE, server.distDir, { recursive: true });
});
afterAll(async () => server?.remove());
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'agent-rsync-'));
});

function configFor(overrides: string[] = []) {
  const yaml = [
    `state_dir: ${join(work, 'state')}`,
    `stage_dir: ${join(work, 'stage')}`,
    'source:',
    `  url: "${server.url}"`,
    `  ssh_key: ${server.clientKey}`,
    `  known_hosts: ${server.knownHosts}`,
    `  port: ${server.port}`,
    ...overrides,
    'report: {bucket: b}',
  ].join('\n');
  return parseConfig(yaml, 'agent.yaml', existsSync);
}

async function fetchAndActivate(config = configFor(), active: ActiveRelease | null = null) {
  const paths = statePaths(config);
  const fetched = await fetchRsyncRelease(deps, config, paths, active);
  if (fetched.status === 'updated') await activateRelease(paths, fetched.releaseId, deps.log);
  return { fetched, paths, active: { id: fetched.releaseId, dir: fetched.releaseDir } };
}

describe('the rsync source over a real sshd with an rrsync read-only key', () => {
  it('stages the tree as a release named by its content', async () => {
    const { fetched } = await fetchAndActivate();
    expect(fetched.status).toBe('updated');
    expect(fetched.filesChanged).toBeGreaterThan(0);
    expect(fetched.releaseId).toBe((await indexTree(server.distDir)).releaseId);
    expect(existsSync(join(fetched.releaseDir, 'manifests/site.pp'))).toBe(true);
  });

  it('an unchanged poll stages nothing and copies nothing', async () => {
    const first = await fetchAndActivate();
    const before = readdirSync(join(work, 'state/releases')).sort();
    const again = await fetchRsyncRelease(deps, configFor(), first.paths, first.active);
    expect(again).toMatchObject({ status: 'unchanged', releaseId: first.fetched.releaseId, filesChanged: 0 });
    expect(readdirSync(join(work, 'state/releases')).sort()).toEqual(before);
  });

  it('a changed file makes a new release whose unchanged files are hard links of the previous one', async () => {
    const first = await fetchAndActivate();
    writeFileSync(join(server.distDir, 'extra.txt'), 'new\n');
    try {
      const second = await fetchAndActivate(configFor(), first.active);
      expect(second.fetched.status).toBe('updated');
      expect(second.fetched.releaseId).not.toBe(first.fetched.releaseId);
      expect(second.fetched.filesChanged).toBe(1);
      const inode = (dir: string) => statSync(join(dir, 'manifests/site.pp')).ino;
      expect(inode(second.fetched.releaseDir)).toBe(inode(first.fetched.releaseDir));
    } finally {
      rmSync(join(server.distDir, 'extra.txt'));
    }
  });

  it('a chmod alone is a new release', async () => {
    const first = await fetchAndActivate();
    chmodSync(join(server.distDir, 'README'), 0o600);
    try {
      const second = await fetchAndActivate(configFor(), first.active);
      expect(second.fetched.status).toBe('updated');
      expect(second.fetched.releaseId).not.toBe(first.fetched.releaseId);
    } finally {
      chmodSync(join(server.distDir, 'README'), 0o644);
    }
  });

  it('refuses a server whose host key is not the pinned one', async () => {
    const wrong = join(work, 'known_hosts');
    writeWrongKnownHosts(wrong, server.port);
    const config = configFor();
    const error = await fetchRsyncRelease(deps, { ...config, source: { ...config.source, known_hosts: wrong } }, statePaths(config), null).catch((e) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('source_unreachable');
    expect((error as Error).message).toMatch(/^rsync from root@127\.0\.0\.1:\/ failed \(exit \d+\): Host key verification failed/);
    expect(readdirSync(join(work, 'state/releases')).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('rejects a tree without the Puppet entry point and activates nothing', async () => {
    const config = configFor(['puppet: {manifest: manifests/missing.pp}']);
    const error = await fetchRsyncRelease(deps, config, statePaths(config), null).catch((e) => e);
    expect((error as AgentError).code).toBe('source_rejected');
    expect((error as Error).message).toMatch(/no Puppet entry point "manifests\/missing\.pp"/);
    expect(readdirSync(join(work, 'state/releases'))).toEqual([]);
  });

  it('works from a local path too', async () => {
    const config = configFor();
    const local = { ...config, source: { ...config.source, url: server.distDir } };
    const fetched = await fetchRsyncRelease(deps, local, statePaths(config), null);
    expect(fetched.releaseId).toBe((await indexTree(server.distDir)).releaseId);
  });
});

describe('the restricted key stays restricted', () => {
  const ssh = (...args: string[]) =>
    execa('ssh', ['-p', String(server.port), '-i', server.clientKey, '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${server.knownHosts}`, '-o', 'BatchMode=yes', ...args], {
      reject: false,
      timeout: 20_000,
    });
  const rsyncE = () => `ssh -p ${server.port} -i ${server.clientKey} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${server.knownHosts} -o BatchMode=yes`;

  it('cannot run a shell command', async () => {
    const marker = join(tmpdir(), `agent-shell-${process.pid}`);
    await ssh('root@127.0.0.1', `touch ${marker}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot push files to the server', async () => {
    const file = join(work, 'pushed.txt');
    writeFileSync(file, 'pwned\n');
    const push = await execa('rsync', ['-e', rsyncE(), file, 'root@127.0.0.1:/'], { reject: false });
    expect(push.exitCode).not.toBe(0);
    expect(existsSync(join(server.distDir, 'pushed.txt'))).toBe(false);
  });

  it('cannot read outside the dist dir with ..', async () => {
    const escape = await execa('rsync', ['-e', rsyncE(), 'root@127.0.0.1:/../', join(work, 'escape/')], { reject: false });
    expect(escape.exitCode).not.toBe(0);
  });

  it('cannot forward ports or get a terminal', async () => {
    const local = await freePort();
    const forward = await ssh('-N', '-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:${local}:127.0.0.1:${server.port}`, 'root@127.0.0.1');
    expect(forward.exitCode).not.toBe(0);
    expect(forward.stderr).toMatch(/forwarding failed|administratively prohibited/i);
    const tty = await ssh('-tt', 'root@127.0.0.1');
    expect(tty.stderr + tty.stdout).toMatch(/PTY allocation request failed|not allowed|rrsync/i);
  });
});
