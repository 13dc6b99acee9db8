import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { execa, type ResultPromise } from 'execa';
import { freePort, waitForPort } from './ports.js';
import { descendantsOf, signalProcesses } from '../../agent/adapters/process-tree.js';
import { copyTree } from './fixture-trees.js';

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
  /** sshd's own log (LogLevel ERROR): read it when a connection fails for no visible reason. */
  logFile: string;
  /** Stop sshd, keeping its keys and files (a server outage). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same host key. */
  start(): Promise<void>;
  /** Stop and remove everything. */
  remove(): Promise<void>;
}

export interface SshdOptions {
  /** A loopback address: every 127.x.y.z is this machine, so tests can give each fake host its own. */
  address?: string;
  /** authorized_keys content, given the client key's public line. */
  authorizedKeys: (clientPublicKey: string) => string;
  /** Environment for sessions (sshd_config SetEnv). */
  setEnv?: Record<string, string>;
  /** A fixed port (fake hosts on different loopback addresses can share one); default: a free one. */
  port?: number;
}

export interface Sshd {
  dir: string;
  address: string;
  port: number;
  clientKey: string;
  knownHosts: string;
  /** The server's public host key, `type base64`. */
  hostKey: string;
  logFile: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

/** A real OpenSSH sshd on a loopback address and free port, with its own config, host key and client key. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true }); // sshd as root refuses to start without it
  const dir = mkdtempSync(join(tmpdir(), 'agent-sshd-'));
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const hostKeyFile = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKeyFile]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'agent-test', '-f', clientKey]);
  const hostKey = readFileSync(`${hostKeyFile}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, options.authorizedKeys(readFileSync(`${clientKey}.pub`, 'utf8').trim()));
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[${address}]:${port} ${hostKey}\n`);
  const config = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  // one SetEnv line: sshd uses the first of repeated keywords
  const pairs = Object.entries(options.setEnv ?? {}).map(([name, value]) => `"${name}=${value}"`);
  const setEnv = pairs.length > 0 ? [`SetEnv ${pairs.join(' ')}`] : [];
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${hostKeyFile}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'StrictModes no', // authorized_keys sits under world-writable /tmp
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'LogLevel ERROR',
      ...setEnv,
      '',
    ].join('\n'),
  );
  let daemon: ResultPromise | undefined;
  const sshd: Sshd = {
    dir,
    address,
    port,
    clientKey,
    knownHosts,
    hostKey,
    logFile,
    async start() {
      // -D: stay in the foreground as our child, so stop() can end it by its handle; -E: log to a file
      daemon = execa('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', config], { reject: false, stdio: 'ignore' });
      await waitForPort(port, 10_000, address);
    },
    async stop() {
      if (!daemon) return;
      // a server that is down has no sessions either: an SSH master a client keeps would otherwise
      // go on serving through the connection it already has
      const sessions = daemon.pid ? descendantsOf(daemon.pid) : [];
      daemon.kill('SIGTERM');
      signalProcesses(sessions, 'SIGTERM');
      await daemon;
      daemon = undefined;
    },
    async remove() {
      await sshd.stop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  await sshd.start();
  return sshd;
}

/**
 * An rsync manifest server: sshd whose only key runs `rrsync -ro <distDir>`, like the real one.
 * `treeDir` is copied into the dist dir (symlinks verbatim: Node's cp would make them absolute).
 */
export async function startManifestServer(treeDir?: string): Promise<ManifestServer> {
  const distDir = mkdtempSync(join(tmpdir(), 'agent-dist-'));
  if (treeDir) copyTree(treeDir, distDir);
  const sshd = await startSshd({ authorizedKeys: (key) => `restrict,command="/usr/bin/rrsync -ro ${distDir}" ${key}\n` });
  return {
    port: sshd.port,
    url: 'root@127.0.0.1:/',
    user: 'root',
    clientKey: sshd.clientKey,
    knownHosts: sshd.knownHosts,
    distDir,
    logFile: sshd.logFile,
    stop: sshd.stop,
    start: sshd.start,
    async remove() {
      await sshd.remove();
      rmSync(distDir, { recursive: true, force: true });
    },
  };
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

