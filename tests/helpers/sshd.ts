import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa, type ResultPromise } from 'execa';
import { freePort, waitForPort } from './ports.js';

/**
 * A real manifest server for tests: OpenSSH's sshd on 127.0.0.1 with its own config and host key,
 * and a client key that can only run `rrsync -ro` on the dist dir — the same authorized_keys form
 * `ami/manifest-server.sh` installs on a real one.
 */
export interface ManifestServer {
  port: number;
  /** rsync source URL: rrsync roots the client at the dist dir, so it asks for `/`. */
  url: string;
  user: string;
  clientKey: string;
  knownHosts: string;
  distDir: string;
  /** Stop sshd, keeping its keys and files (a server outage). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same host key. */
  start(): Promise<void>;
  /** Stop and remove everything. */
  remove(): Promise<void>;
}

export async function startManifestServer(): Promise<ManifestServer> {
  mkdirSync('/run/sshd', { recursive: true }); // sshd as root refuses to start without it
  const dir = mkdtempSync(join(tmpdir(), 'agent-sshd-'));
  const distDir = join(dir, 'dist');
  mkdirSync(distDir);
  const port = await freePort();
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKey]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agent-test', '-f', clientKey]);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, `restrict,command="/usr/bin/rrsync -ro ${distDir}" ${readFileSync(`${clientKey}.pub`, 'utf8')}`);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'StrictModes no', // authorized_keys sits under world-writable /tmp
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  let daemon: ResultPromise | undefined;
  const server: ManifestServer = {
    port,
    url: `root@127.0.0.1:/`,
    user: 'root',
    clientKey,
    knownHosts,
    distDir,
    async start() {
      daemon = execa('/usr/sbin/sshd', ['-D', '-e', '-f', config], { reject: false, stdio: ['ignore', 'ignore', 'pipe'] });
      await waitForPort(port);
    },
    async stop() {
      if (!daemon) return;
      daemon.kill('SIGTERM');
      await daemon;
      daemon = undefined;
    },
    async remove() {
      await server.stop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** A known_hosts that pins some other key for the server: what a man in the middle looks like. */
export function writeWrongKnownHosts(path: string, port: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'agent-wrongkey-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    writeFileSync(path, `[127.0.0.1]:${port} ${readFileSync(join(dir, 'key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

