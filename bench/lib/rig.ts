/**
 * The test bench every timed scenario shares: the sandbox fixture tree served by a real OpenSSH sshd on
 * loopback through `rrsync -ro` (the production authorized_keys form), a loopback S3 API for reports,
 * and agent hosts (config + state dir + sandbox under one temp dir) pointed at both.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../tests/helpers/sshd.js';
import { copyTree } from '../../tests/helpers/fixture-trees.js';
import { startBenchS3, type BenchS3 } from './s3.js';
import { createBenchHost, type BenchHost } from './agent-host.js';
import { AGENT_BIN, FIXTURE_TREE } from './paths.js';
import { expectExit, timed } from './timed.js';
import { closeSshMasters } from '../../agent/adapters/ssh-master.js';
import { startByteCounter } from './byte-counter.js';

export const BUCKET = 'fleet-reports';

export interface BenchSource {
  url: string;
  port: number;
  clientKey: string;
  knownHosts: string;
  distDir: string;
  /** One line (epoch seconds) per rsync the server started; only with `logConnections`. */
  readConnections(): number[];
  /** Wire bytes since the last call; only with `countBytes` (clients then connect through the counter). */
  takeBytes(): { received: number; sent: number; connections: number };
}

export interface Rig {
  source: BenchSource;
  s3: BenchS3;
  /** A new agent host polling `source` and reporting to `s3`. */
  host(instanceId: string, overrides?: Record<string, unknown>): BenchHost;
  remove(): Promise<void>;
}

export async function startRig(options: { logConnections?: boolean; countBytes?: boolean } = {}): Promise<Rig> {
  const distDir = mkdtempSync(join(tmpdir(), 'bench-dist-'));
  copyTree(FIXTURE_TREE, distDir);
  const logFile = join(distDir, '..', `${distDir.split('/').pop()}.connections`);
  const command = options.logConnections ? connectionLogger(distDir, logFile) : `/usr/bin/rrsync -ro ${distDir}`;
  let sshd: Sshd | undefined;
  let s3: BenchS3 | undefined;
  const hosts: BenchHost[] = [];
  try {
    sshd = await startSshd({ authorizedKeys: (key) => `restrict,command="${command}" ${key}\n` });
    s3 = await startBenchS3([BUCKET]);
  } catch (error) {
    await sshd?.remove();
    rmSync(distDir, { recursive: true, force: true });
    throw error;
  }
  const counter = options.countBytes ? await startByteCounter(sshd.port) : undefined;
  const started = { sshd, s3, counter };
  const source: BenchSource = {
    url: 'root@127.0.0.1:/',
    port: counter?.port ?? sshd.port,
    clientKey: sshd.clientKey,
    knownHosts: counter ? pinForPort(sshd, counter.port) : sshd.knownHosts,
    distDir,
    takeBytes: () => counter?.take() ?? { received: 0, sent: 0, connections: 0 },
    readConnections: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map(Number) : []),
  };
  return {
    source,
    s3,
    host(instanceId, overrides = {}) {
      const host = createBenchHost(
        {
          instance_id: instanceId,
          roles: ['bench'],
          source: { url: source.url, ssh_key: source.clientKey, known_hosts: source.knownHosts, port: source.port, timeout: '60s' },
          report: { bucket: BUCKET, endpoint: started.s3.endpoint, force_path_style: true },
          log: { level: 'warn' },
          ...overrides,
        },
        started.s3.env,
      );
      hosts.push(host);
      return host;
    },
    async remove() {
      for (const host of hosts) {
        await closeSshMasters(join(host.stateDir, 'ssh')); // what the daemon does at stop
        host.remove();
      }
      await started.counter?.stop();
      await started.sshd.remove();
      await started.s3.remove();
      rmSync(distDir, { recursive: true, force: true });
      rmSync(logFile, { force: true });
    },
  };
}

/** known_hosts pinning the server's key at the relay's port (ssh keys known hosts by host and port). */
function pinForPort(sshd: Sshd, port: number): string {
  const file = join(sshd.dir, `known_hosts.${port}`);
  writeFileSync(file, `[127.0.0.1]:${port} ${sshd.hostKey}\n`);
  return file;
}

/**
 * A forced command that notes the time of every rsync the server starts, then becomes rrsync: the
 * source's own request log, independent of what the clients say about themselves.
 */
function connectionLogger(distDir: string, logFile: string): string {
  const script = `${logFile}.sh`;
  writeFileSync(script, `#!/bin/sh\ndate +%s.%N >> '${logFile}'\nexec /usr/bin/rrsync -ro '${distDir}'\n`);
  chmodSync(script, 0o755);
  return script;
}

/**
 * Sign the rig's tree and publish it into the rig's bucket under `source/` (`agent publish --to`), and
 * return the config overrides of a host polling it through `endpoint` (the S3 server, or a proxy in front).
 */
export async function publishToS3(rig: Rig, work: string): Promise<(endpoint: string) => Record<string, unknown>> {
  const keys = join(work, 'release');
  const agent = (args: string[]) => timed(process.execPath, [AGENT_BIN, ...args], { env: rig.s3.env });
  expectExit(await agent(['keygen', '--out', keys]), [0], 'keygen');
  expectExit(await agent(['publish', rig.source.distDir, '--key', `${keys}.key`, '--to', `s3://${BUCKET}/source`, '--endpoint', rig.s3.endpoint]), [0], 'publish --to s3');
  return (endpoint) => ({
    source: { type: 's3', bucket: BUCKET, prefix: 'source', endpoint, force_path_style: true, timeout: '60s' },
    verify: { public_keys: [`${keys}.pub`] },
  });
}

/** Rewrite the fixture's motd line: one real change to the tree (one resource for Puppet to change). */
export function changeTree(distDir: string, marker: string): void {
  const site = join(distDir, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/content => "welcome [^"\\]*\\n"/, `content => "welcome ${marker}\\n"`));
}
