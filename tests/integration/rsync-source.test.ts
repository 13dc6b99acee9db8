import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from '@jest/globals';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
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
import { exec, type Exec } from '../../agent/adapters/exec.js';
import { silentLog } from '../../agent/adapters/log.js';
import { AgentError } from '../../agent/errors.js';
import type { ActiveRelease } from '../../agent/source/types.js';
import { generateKeyPair } from '../../agent/release/signature.js';
import { writeKeyPair } from '../../agent/release/key-files.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import { SANDBOX_TREE } from '../helpers/fixture-trees.js';
import { randomBytes } from 'node:crypto';

const FIXTURE_FILES = ['README', 'bin/check.sh', 'data/common.yaml', 'files/current', 'files/motd', 'hiera.yaml', 'manifests/site.pp', 'modules/sandbox_extra/manifests/init.pp'];
let server: ManifestServer;
let work: string;
let rsyncCalls: string[][];
/** The real exec, remembering every rsync argv: what the agent actually asked rsync to do. */
const spyExec: Exec = (request) => {
  rsyncCalls.push([...request.args]);
  return exec(request);
};
const deps = { exec: spyExec, log: silentLog() };

beforeAll(async () => {
  server = await startManifestServer(SANDBOX_TREE);
});
afterAll(async () => server?.remove());
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'agent-rsync-'));
  rsyncCalls = [];
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

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

async function fetchAndActivate(active: ActiveRelease | null = null, config = configFor()) {
  const paths = statePaths(config);
  const fetched = await fetchRsyncRelease(deps, config, paths, active);
  if (fetched.status === 'updated') await activateRelease(paths, fetched.releaseId, deps.log);
  return { fetched, paths, active: { id: fetched.releaseId, dir: fetched.releaseDir } };
}

const releases = () => readdirSync(join(work, 'state/releases')).sort();
const onServer = (path: string) => join(server.distDir, path);

describe('the rsync source over a real sshd with an rrsync read-only key', () => {
  it('stages the tree as a release named by its content, links and modes intact', async () => {
    const { fetched } = await fetchAndActivate();
    expect(fetched.status).toBe('updated');
    expect(fetched.releaseId).toBe((await indexTree(SANDBOX_TREE)).releaseId);
    expect(fetched.filesChanged).toBe(FIXTURE_FILES.length);
    expect(fetched.bytesTransferred).toBeGreaterThan(0);
    expect(lstatSync(join(fetched.releaseDir, 'files/current')).isSymbolicLink()).toBe(true);
    expect(statSync(join(fetched.releaseDir, 'bin/check.sh')).mode & 0o777).toBe(0o755);
    expect(releases()).toEqual([fetched.releaseId, `${fetched.releaseId}.index.json`]);
  });

  it('an unchanged plain tree costs one dry run: nothing staged, nothing copied', async () => {
    const first = await fetchAndActivate();
    rsyncCalls = [];
    const before = releases();
    const again = await fetchRsyncRelease(deps, configFor(), first.paths, first.active);
    expect(again).toMatchObject({ status: 'unchanged', releaseId: first.fetched.releaseId, releaseDir: first.fetched.releaseDir, filesChanged: 0 });
    expect(rsyncCalls).toHaveLength(1);
    expect(rsyncCalls[0]).toContain('--dry-run');
    expect(releases()).toEqual(before);
  });

  it('a changed file makes a new release whose unchanged files are hard links of the previous one', async () => {
    const first = await fetchAndActivate();
    const motd = readFileSync(onServer('files/motd'));
    writeFileSync(onServer('files/motd'), 'changed\n');
    writeFileSync(onServer('extra.txt'), 'new\n');
    try {
      const second = await fetchAndActivate(first.active);
      expect(second.fetched.status).toBe('updated');
      expect(second.fetched.releaseId).not.toBe(first.fetched.releaseId);
      expect(second.fetched.filesChanged).toBe(2);
      const inode = (dir: string, path: string) => statSync(join(dir, path)).ino;
      expect(inode(second.fetched.releaseDir, 'manifests/site.pp')).toBe(inode(first.fetched.releaseDir, 'manifests/site.pp'));
      expect(inode(second.fetched.releaseDir, 'files/motd')).not.toBe(inode(first.fetched.releaseDir, 'files/motd'));
      expect(readFileSync(join(second.fetched.releaseDir, 'files/motd'), 'utf8')).toBe('changed\n');
      expect(readFileSync(join(first.fetched.releaseDir, 'files/motd'), 'utf8')).toBe('welcome\n'); // the old release is untouched
    } finally {
      writeFileSync(onServer('files/motd'), motd);
      rmSync(onServer('extra.txt'));
    }
  });

  it('a chmod alone is a new release', async () => {
    const first = await fetchAndActivate();
    chmodSync(onServer('README'), 0o600);
    try {
      const second = await fetchAndActivate(first.active);
      expect(second.fetched).toMatchObject({ status: 'updated', filesChanged: 1 });
      expect(second.fetched.releaseId).not.toBe(first.fetched.releaseId);
    } finally {
      chmodSync(onServer('README'), 0o644);
    }
  });

  it('a touch alone is no new release, and the poll after it copies nothing again', async () => {
    const first = await fetchAndActivate();
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(onServer('files/motd'), past, past);
    const touched = await fetchAndActivate(first.active);
    expect(touched.fetched).toMatchObject({ status: 'unchanged', releaseId: first.fetched.releaseId, filesChanged: 0 });
    expect(releases()).toEqual([first.fetched.releaseId, `${first.fetched.releaseId}.index.json`]);
    rsyncCalls = [];
    const after = await fetchAndActivate(first.active);
    expect(after.fetched.status).toBe('unchanged');
    expect(rsyncCalls).toHaveLength(1); // the active release took the source's times: the dry run matches
  });

  it('a release the source goes back to is the kept one, not a second copy', async () => {
    const first = await fetchAndActivate();
    writeFileSync(onServer('extra.txt'), 'new\n');
    const second = await fetchAndActivate(first.active).finally(() => rmSync(onServer('extra.txt')));
    const back = await fetchAndActivate(second.active);
    expect(back.fetched).toMatchObject({ status: 'updated', releaseId: first.fetched.releaseId, releaseDir: first.fetched.releaseDir, filesChanged: 1 });
    expect(releases().filter((name) => !name.endsWith('.index.json'))).toEqual([first.fetched.releaseId, second.fetched.releaseId].sort());
  });

  it.each([
    ['pins another key for it (a man in the middle)', (file: string) => writeWrongKnownHosts(file, server.port)],
    ['knows no key for it (never accept-new)', (file: string) => writeFileSync(file, '')],
  ])('refuses a server when known_hosts %s', async (_case, writeKnownHosts) => {
    const wrong = join(work, 'known_hosts');
    writeKnownHosts(wrong);
    const config = configFor();
    const pinnedElsewhere = { ...config, source: { ...config.source, known_hosts: wrong } };
    const error = await fetchRsyncRelease(deps, pinnedElsewhere, statePaths(config), null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'source_unreachable' });
    // rsync exits 255 or 12 depending on which side notices the dead ssh first
    expect((error as Error).message).toMatch(/^rsync from root@127\.0\.0\.1:\/ failed \(exit (255|12)\): Host key verification failed\./);
    expect((error as Error).message).not.toMatch(/\s@(\s|$)|@@|[\r\n]/); // one line, ssh's @ banner frame gone
    expect(releases()).toEqual([]);
  });

  it('rejects a tree without the Puppet entry point and keeps nothing of it', async () => {
    const config = configFor(['puppet: {manifest: manifests/missing.pp}']);
    const error = await fetchRsyncRelease(deps, config, statePaths(config), null).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'source_rejected', message: expect.stringMatching(/has no Puppet entry point "manifests\/missing\.pp"/) });
    expect(releases()).toEqual([]);
  });

  it('rejects an unsigned tree when only signed releases are accepted', async () => {
    writeFileSync(join(work, 'release.pub'), generateKeyPair().publicKey);
    const config = configFor([`verify: {public_keys: [${join(work, 'release.pub')}]}`]);
    const error = await fetchRsyncRelease(deps, config, statePaths(config), null).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'source_rejected', message: expect.stringContaining('unsigned') });
    expect(releases()).toEqual([]);
  });

  it('works from a local path too', async () => {
    const config = configFor();
    const local = { ...config, source: { ...config.source, url: server.distDir } };
    const fetched = await fetchRsyncRelease(deps, local, statePaths(config), null);
    expect(fetched.releaseId).toBe((await indexTree(SANDBOX_TREE)).releaseId);
    expect(rsyncCalls[0]).not.toContain('-e');
  });
});

describe('a signed tree over the same sshd', () => {
  const big = () => onServer('files/big.bin');
  const publish = async () => {
    const result = await execa(process.execPath, [AGENT_BIN, 'publish', server.distDir, '--key', join(keys, 'release.key')], { reject: false });
    expect(result.exitCode).toBe(0);
  };
  let keys: string;
  const signedConfig = () => configFor([`verify: {public_keys: [${join(keys, 'release.pub')}]}`]);

  beforeAll(async () => {
    keys = mkdtempSync(join(tmpdir(), 'agent-keys-'));
    await writeKeyPair(join(keys, 'release'));
    writeFileSync(big(), randomBytes(256 * 1024));
    await publish();
  });
  afterAll(() => {
    rmSync(onServer('.release'), { recursive: true, force: true });
    rmSync(big(), { force: true });
    rmSync(keys, { recursive: true, force: true });
  });

  it('an unchanged poll transfers the manifest alone: one rsync, a few KB of a 256 KB tree, no tree walk', async () => {
    const first = await fetchAndActivate(null, signedConfig());
    expect(first.fetched.status).toBe('updated');
    rsyncCalls = [];
    const again = await fetchRsyncRelease(deps, signedConfig(), first.paths, first.active);
    expect(again).toMatchObject({ status: 'unchanged', releaseId: first.fetched.releaseId });
    expect(rsyncCalls).toHaveLength(1);
    expect(rsyncCalls[0]).toEqual(expect.arrayContaining(['--include=/.release/***', '--exclude=*']));
    expect(again.bytesTransferred).toBeGreaterThan(0);
    expect(again.bytesTransferred).toBeLessThan(4096);
  });

  it('a new release syncs with --link-dest after the manifest, and verifies', async () => {
    const first = await fetchAndActivate(null, signedConfig());
    writeFileSync(onServer('files/motd'), 'signed change\n');
    try {
      await publish();
      rsyncCalls = [];
      const second = await fetchAndActivate(first.active, signedConfig());
      expect(second.fetched).toMatchObject({ status: 'updated', filesChanged: 1 });
      expect(rsyncCalls).toHaveLength(2);
      expect(rsyncCalls[1]).toContain(`--link-dest=${first.active.dir}`);
      expect(second.fetched.bytesTransferred).toBeLessThan(16 * 1024); // the 256 KB file was linked, not sent
    } finally {
      writeFileSync(onServer('files/motd'), 'welcome\n');
      await publish();
    }
  });
  it('stages into the release the next prune would delete, never touching a file another release shares', async () => {
    const { pruneReleases } = await import('../../agent/release/prune.js');
    let current = (await fetchAndActivate(null, signedConfig())).active;
    const ids = [current.id];
    const motd = onServer('files/motd');
    try {
      // three more releases: content, content, then a chmod only (rsync would chmod a shared inode in place)
      for (const change of [() => writeFileSync(motd, 'one\n'), () => writeFileSync(motd, 'welcome\n'), () => chmodSync(motd, 0o600)]) {
        change();
        await publish();
        const before = readdirSync(join(current.dir, 'files')).map((name) => [name, lstatSync(join(current.dir, 'files', name)).mode, readFileSync(join(current.dir, 'files', name), 'utf8')]);
        const next = await fetchAndActivate(current, signedConfig());
        expect(next.fetched.status).toBe('updated');
        // the release it replaced (a rollback target, sharing inodes with the new one) is exactly as it was
        expect(readdirSync(join(current.dir, 'files')).map((name) => [name, lstatSync(join(current.dir, 'files', name)).mode, readFileSync(join(current.dir, 'files', name), 'utf8')])).toEqual(before);
        await pruneReleases(next.paths, undefined, deps.log);
        current = next.active;
        ids.push(current.id);
      }
      // the first release was recycled into the fourth: three kept, each still exactly its own id
      const kept = readdirSync(join(work, 'state/releases')).filter((name) => !name.endsWith('.json') && !name.startsWith('.'));
      expect(kept.sort()).toEqual(ids.slice(1).sort());
      for (const id of kept) expect((await indexTree(join(work, 'state/releases', id))).releaseId).toBe(id);
      expect(lstatSync(join(current.dir, 'files/motd')).mode & 0o777).toBe(0o600);
    } finally {
      chmodSync(motd, 0o644);
      writeFileSync(motd, 'welcome\n');
      await publish();
    }
  });
});

describe('the restricted key stays restricted', () => {
  const sshOptions = () => ['-p', String(server.port), '-i', server.clientKey, '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${server.knownHosts}`, '-o', 'BatchMode=yes'];
  const ssh = (...args: string[]) => execa('ssh', [...sshOptions(), ...args], { reject: false, timeout: 20_000 });
  const rsync = (...args: string[]) => execa('rsync', ['-e', ['ssh', ...sshOptions()].join(' '), ...args], { reject: false, timeout: 20_000 });

  it('cannot run a shell command', async () => {
    const marker = join(work, 'shell-ran');
    const result = await ssh('root@127.0.0.1', `touch ${marker}`);
    expect(result.exitCode).not.toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot push files to the server', async () => {
    const file = join(work, 'pushed.txt');
    writeFileSync(file, 'pwned\n');
    const push = await rsync(file, 'root@127.0.0.1:/');
    expect(push.exitCode).not.toBe(0);
    expect(existsSync(onServer('pushed.txt'))).toBe(false);
  });

  it('cannot delete on the server with --remove-source-files', async () => {
    await rsync('--remove-source-files', 'root@127.0.0.1:/README', join(work, 'README'));
    expect(existsSync(onServer('README'))).toBe(true);
  });

  it('cannot read outside the dist dir with ..', async () => {
    const escape = await rsync('-r', 'root@127.0.0.1:/../', join(work, 'escape/'));
    expect(escape.exitCode).not.toBe(0);
    expect(existsSync(join(work, 'escape')) ? readdirSync(join(work, 'escape')) : []).toEqual([]);
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
