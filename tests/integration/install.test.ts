import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { generateKeyPair } from '../../agent/release/signature.js';
import { parseConfig } from '../../agent/config/load.js';
import { DAEMON_NODE_FLAGS } from '../../agent/commands/daemon.js';

/** ami/install.sh --root into a directory tree, from the real packed artefact (`npm pack`). */
const REPO = new URL('../..', import.meta.url).pathname;
let work: string;
let artifact: string;
let root: string;

function install(extra: string[] = []) {
  return execa(
    'bash',
    [
      join(REPO, 'ami/install.sh'),
      '--artifact', artifact,
      '--root', root,
      '--node', process.execPath,
      '--manifest-url', 'agent@manifests.example.internal:/',
      '--manifest-host-key', join(work, 'known_hosts'),
      '--client-key', join(work, 'id_ed25519'),
      '--release-key', join(work, 'release.pub'),
      '--bucket', 'fleet-reports',
      '--region', 'eu-west-1',
      ...extra,
    ],
    { reject: false },
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'agent-install-'));
  root = join(work, 'root');
  // --ignore-scripts: `prepare` would rebuild dist/ under the e2e suites running beside this one
  const packed = await execa('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], { cwd: REPO });
  artifact = join(work, packed.stdout.trim().split('\n').pop()!);
  writeFileSync(join(work, 'known_hosts'), 'manifests.example.internal ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIManifestServerHostKeyForTests\n');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'id_ed25519')]);
  writeFileSync(join(work, 'release.pub'), generateKeyPair().publicKey);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ami/install.sh --root', () => {
  it('installs the artefact, the wrapper, config, keys and the enabled unit', async () => {
    const result = await install();
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    // the wrapper names image paths; outside a chroot, run what it points at
    // the daemon with the flags the bench measures it with, every other command without them
    expect(readFileSync(join(root, 'usr/local/bin/agent'), 'utf8')).toBe(
      `#!/bin/sh\n[ "$1" = daemon ] && exec ${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} /opt/agent/dist/agent/main.js "$@"\nexec ${process.execPath} /opt/agent/dist/agent/main.js "$@"\n`,
    );
    const version = await execa(process.execPath, [join(root, 'opt/agent/dist/agent/main.js'), '--version']);
    expect(version.stdout).toMatch(/^agent \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)$/);
    // its bundled dependencies load (the tarball carries them: package.json bundleDependencies)
    writeFileSync(join(work, 'check.yaml'), 'source: {url: /srv/dist/}\nreport: {bucket: b}\n');
    const check = await execa(process.execPath, [join(root, 'opt/agent/dist/agent/main.js'), 'config', 'check', '--config', join(work, 'check.yaml')], { cwd: '/' });
    expect(check.stdout).toContain('valid');
    expect(existsSync(join(root, 'opt/agent/node_modules/zod/package.json'))).toBe(true);
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/agent.service'))).toMatch(/agent\.service$/);
    expect(statSync(join(root, 'etc/agent/ssh/id_ed25519')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'var/lib/agent')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(root, 'etc/agent/ssh/known_hosts'), 'utf8')).toContain('ManifestServerHostKeyForTests');
  });

  it('--publisher also installs and enables the rollout controller timer', async () => {
    expect(existsSync(join(root, 'etc/systemd/system/agent-rollout.timer'))).toBe(false);
    const result = await install(['--publisher']);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(root, 'etc/systemd/system/agent-rollout.service'), 'utf8')).toContain('rollout tick');
    expect(readlinkSync(join(root, 'etc/systemd/system/timers.target.wants/agent-rollout.timer'))).toMatch(/agent-rollout\.timer$/);
  });

  it('writes a config that passes validation, with the image build values', () => {
    const text = readFileSync(join(root, 'etc/agent/agent.yaml'), 'utf8');
    const config = parseConfig(text, 'agent.yaml', (path) => existsSync(join(root, path)));
    expect(config.source.url).toBe('agent@manifests.example.internal:/');
    expect(config.report).toMatchObject({ bucket: 'fleet-reports', region: 'eu-west-1' });
    expect(config.instance_id).toBe('auto');
    expect(config.verify.public_keys).toEqual(['/etc/agent/release.pub']); // only signed releases
    expect(readFileSync(join(root, 'etc/agent/release.pub'), 'utf8')).toBe(readFileSync(join(work, 'release.pub'), 'utf8'));
  });

  it('is idempotent and never overwrites an existing config', async () => {
    appendFileSync(join(root, 'etc/agent/agent.yaml'), 'roles: [web]\n');
    const again = await install();
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('kept the existing /etc/agent/agent.yaml');
    expect(readFileSync(join(root, 'etc/agent/agent.yaml'), 'utf8')).toContain('roles: [web]');
    expect(existsSync(join(root, 'opt/agent.old'))).toBe(false);
    expect((await execa(process.execPath, [join(root, 'opt/agent/dist/agent/main.js'), '--version'])).exitCode).toBe(0);
  });

  it('refuses to run without an artefact', async () => {
    const result = await execa('bash', [join(REPO, 'ami/install.sh'), '--root', root], { reject: false });
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toContain('--artifact must name the agent tarball');
  });
});
