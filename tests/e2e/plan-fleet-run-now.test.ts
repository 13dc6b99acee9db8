import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { startS3Server, listKeys, type S3Server } from '../helpers/s3.js';
import { freePort } from '../helpers/ports.js';
import { createAgentHost, AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { layFixtureTree } from '../helpers/fixture-trees.js';

jest.setTimeout(180_000);

/**
 * `agent fleet run-now --plan PLAN_ID` (SPEC §10): the operator asks every registered host for its
 * answer now, over SSH with host keys pinned from the registry, instead of waiting a poll interval.
 * Each fake host is a real sshd on its own loopback address running the real agent binary.
 */
let s3: S3Server;
let work: string;
let tree: string;
let operatorKey: string;
let port: number;
const hosts: Array<{ id: string; sshd: Sshd; agent: AgentHost }> = [];

const agent = (...args: string[]) =>
  execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' } });

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', 'releases'] });
  work = mkdtempSync(join(tmpdir(), 'agent-plan-fleet-'));
  tree = layFixtureTree(join(work, 'tree'), 'sandbox');
  operatorKey = join(work, 'operator');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', operatorKey]);
  expect((await agent('keygen', '--out', join(work, 'release'))).exitCode).toBe(0);
  expect((await agent('publish', tree, '--key', join(work, 'release.key'), '--to', 's3://releases/puppet', '--endpoint', s3.endpoint)).exitCode).toBe(0);
  port = await freePort();
  for (const [index, address] of ['127.0.0.5', '127.0.0.6'].entries()) {
    const id = `i-plan${index + 1}`;
    const host = createAgentHost({
      instance_id: id,
      roles: ['web'],
      source: { type: 's3', bucket: 'releases', prefix: 'puppet', endpoint: s3.endpoint, force_path_style: true },
      verify: { public_keys: [join(work, 'release.pub')] },
      report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
    }, s3.env);
    const bin = join(host.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'agent'), `#!/bin/sh\nexec ${process.execPath} ${AGENT_BIN} "$@"\n`);
    chmodSync(join(bin, 'agent'), 0o755);
    const sshd = await startSshd({ address, port, authorizedKeys: () => readFileSync(`${operatorKey}.pub`, 'utf8'), setEnv: { PATH: `${bin}:/usr/bin:/bin`, AGENT_CONFIG: host.configPath, ...host.env } });
    const entry = { schema: 'agent.registration/v1', instance_id: id, hostname: id, private_ip: address, roles: ['web'], ssh_host_keys: [sshd.hostKey], registered_at: new Date().toISOString() };
    await s3.client.send(new PutObjectCommand({ Bucket: 'fleet-reports', Key: `registry/${id}.json`, Body: JSON.stringify(entry) }));
    expect((await host.run(['run-now'])).exitCode).toBe(2);
    hosts.push({ id, sshd, agent: host });
  }
}, 120_000);

afterAll(async () => {
  for (const host of hosts) {
    await host.sshd.remove();
    host.agent.remove();
  }
  rmSync(work, { recursive: true, force: true });
  await s3?.remove();
});

describe('agent fleet run-now --plan', () => {
  it('collects every host\'s answer now, over pinned SSH, and applies nothing', async () => {
    const site = join(tree, 'manifests/site.pp');
    writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome v2'));
    const started = await agent('plan', 'start', tree, '--key', join(work, 'release.key'), '--to', 's3://releases/puppet', '--endpoint', s3.endpoint);
    expect(started.exitCode).toBe(0);
    const planId = String(started.stdout).trim();
    const stages = hosts.map((host) => readlinkSync(host.agent.stageDir));

    const fleetRun = await execa(
      process.execPath,
      [AGENT_BIN, 'fleet', 'run-now', '--plan', planId, '--bucket', 'fleet-reports', '--endpoint', s3.endpoint, '--path-style', '--ssh-key', operatorKey, '--ssh-port', String(port)],
      { reject: false, env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' } },
    );
    expect(fleetRun.exitCode).toBe(0);
    expect(fleetRun.stdout).toMatch(/i-plan1 +127\.0\.0\.5 +2 +changes/);
    expect(fleetRun.stdout).toMatch(/i-plan2 +127\.0\.0\.6 +2 +changes/);
    expect(await listKeys(s3.client, 'fleet-reports', `plans/${planId}/`)).toEqual([`plans/${planId}/i-plan1.json`, `plans/${planId}/i-plan2.json`]);
    expect(hosts.map((host) => readlinkSync(host.agent.stageDir))).toEqual(stages);
    for (const host of hosts) expect(readFileSync(join(host.agent.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');

    const shown = await agent('plan', 'show', planId, '--to', 's3://releases/puppet', '--bucket', 'fleet-reports', '--endpoint', s3.endpoint);
    expect(shown.exitCode).toBe(2);
    expect(shown.stdout).toMatch(/answered 2 of 2 hosts in scope: 2 would change/);
    expect(shown.stdout).toContain('+welcome v2');
  });
});
