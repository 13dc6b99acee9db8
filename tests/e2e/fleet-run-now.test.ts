import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { startS3Server, getText, type S3Server } from '../helpers/s3.js';
import { freePort } from '../helpers/ports.js';
import { createAgentHost, AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { layFixtureTree } from '../helpers/fixture-trees.js';

/**
 * `agent fleet run-now` against fake hosts: each a real sshd on its own loopback address whose `agent`
 * is the real binary with its own config and state dir. One registered host answers on no address.
 */
let s3: S3Server;
let work: string;
let operatorKey: string;
let port: number;
const hosts: Array<{ id: string; sshd: Sshd; agent: AgentHost }> = [];

async function register(id: string, ip: string, hostKey: string) {
  const entry = { schema: 'agent.registration/v1', instance_id: id, hostname: id, private_ip: ip, public_ip: null, ami_id: null, instance_type: null, availability_zone: null, region: null, roles: ['web'], ssh_host_keys: [hostKey], agent_version: 'test', registered_at: new Date().toISOString() };
  await s3.client.send(new PutObjectCommand({ Bucket: 'fleet-reports', Key: `registry/${id}.json`, Body: JSON.stringify(entry) }));
}

async function fleetRunNow(...args: string[]) {
  const result = await execa(
    process.execPath,
    [AGENT_BIN, 'fleet', 'run-now', '--bucket', 'fleet-reports', '--endpoint', s3.endpoint, '--path-style', '--ssh-key', operatorKey, '--ssh-port', String(port), ...args],
    { reject: false, env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' } },
  );
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

beforeAll(async () => {
  s3 = await startS3Server();
  work = mkdtempSync(join(tmpdir(), 'agent-fleet-'));
  operatorKey = join(work, 'operator');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', operatorKey]);
  const operatorPublic = readFileSync(`${operatorKey}.pub`, 'utf8');
  const dist = layFixtureTree(join(work, 'dist'), 'sandbox');
  port = await freePort();
  for (const [index, address] of ['127.0.0.2', '127.0.0.3'].entries()) {
    const id = `i-host${index + 2}`;
    const agent = createAgentHost({ instance_id: id, source: { url: dist }, report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true } }, s3.env);
    const bin = join(agent.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'agent'), `#!/bin/sh\nexec ${process.execPath} ${AGENT_BIN} "$@"\n`);
    chmodSync(join(bin, 'agent'), 0o755);
    const sshd = await startSshd({
      address,
      port,
      authorizedKeys: () => operatorPublic,
      setEnv: { PATH: `${bin}:/usr/bin:/bin`, AGENT_CONFIG: agent.configPath, ...agent.env },
    });
    await register(id, address, sshd.hostKey);
    hosts.push({ id, sshd, agent });
  }
  // sorts first, and nothing listens there
  await register('i-host1', '127.0.0.4', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnreachableHostKeyForTestsOnly');
}, 60_000);

afterAll(async () => {
  for (const host of hosts) {
    await host.sshd.remove();
    host.agent.remove();
  }
  rmSync(work, { recursive: true, force: true });
  await s3?.remove();
});

describe('agent fleet run-now', () => {
  it('runs on every reachable host, one at a time with --parallel 1, and reports the unreachable one', async () => {
    const { exitCode, stdout, stderr } = await fleetRunNow('--parallel', '1');
    expect(exitCode).toBe(4); // one host unreachable
    expect(stdout).toMatch(/^INSTANCE +ADDRESS +EXIT +RESULT/);
    expect(stdout).toMatch(/i-host1 +127\.0\.0\.4 +- +unreachable/);
    expect(stdout).toMatch(/i-host2 +127\.0\.0\.2 +2 +changed/);
    expect(stdout).toMatch(/i-host3 +127\.0\.0\.3 +2 +changed/);
    expect(stderr).toMatch(/fleet run-now: 3\/3 done, 0 running, 1 failed/);
    const [a, b] = await Promise.all(hosts.map(async (host) => JSON.parse(await getText(s3.client, 'fleet-reports', `latest/${host.id}.json`))));
    expect(a.trigger).toBe('fleet');
    const [first, second] = [a, b].sort((x, y) => x.started_at.localeCompare(y.started_at));
    expect(Date.parse(second.started_at)).toBeGreaterThanOrEqual(Date.parse(first.finished_at)); // never two at once
  });

  it('stops starting hosts after --max-failures', async () => {
    const { exitCode, stdout } = await fleetRunNow('--parallel', '1', '--max-failures', '1');
    expect(exitCode).toBe(4);
    expect(stdout).toMatch(/i-host1 .* unreachable/);
    expect(stdout).toMatch(/i-host2 .* not started +--max-failures 1 reached/);
    expect(stdout).toMatch(/i-host3 .* not started/);
  });

  it('exits 0 when every selected host ran, and passes --noop on', async () => {
    await register('i-host1', '127.0.0.4', 'ssh-ed25519 AAAA');
    await s3.client.send(new PutObjectCommand({ Bucket: 'fleet-reports', Key: 'registry/i-host1.json', Body: JSON.stringify({ instance_id: 'i-host1', private_ip: '127.0.0.4', roles: ['db'], ssh_host_keys: [] }) }));
    const { exitCode, stdout } = await fleetRunNow('--role', 'web', '--noop', '--parallel', '2');
    expect(stdout).not.toContain('i-host1');
    expect(exitCode).toBe(0);
    const latest = JSON.parse(await getText(s3.client, 'fleet-reports', 'latest/i-host2.json'));
    expect(latest).toMatchObject({ trigger: 'fleet', mode: 'noop', result: 'compliant' });
  });
});
