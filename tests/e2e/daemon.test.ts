import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { startManifestServer, type ManifestServer } from '../helpers/sshd.js';
import { startS3Server, listKeys, getText, type S3Server } from '../helpers/s3.js';
import { startFakeImds, type FakeImds } from '../helpers/imds.js';
import { createAgentHost, AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { SANDBOX_TREE } from '../helpers/fixture-trees.js';

/**
 * The real daemon against the loopback sshd, S3 server and a fake IMDSv2, on a 6-field cron that
 * fires every 3 seconds.
 */
const ID = 'i-0fa1e0000000d4e30';
let server: ManifestServer;
let s3: S3Server;
let imds: FakeImds;
let host: AgentHost;
let daemon: ResultPromise;
let daemonLog = '';

const reportKeys = async () => (await listKeys(s3.client, 'fleet-reports', 'reports/')).length;
const status = async () => JSON.parse((await host.run(['status', '--json'])).stdout);

beforeAll(async () => {
  server = await startManifestServer(SANDBOX_TREE);
  s3 = await startS3Server();
  imds = await startFakeImds({
    'instance-id': ID,
    'local-ipv4': '10.1.2.3',
    'public-ipv4': '203.0.113.9',
    'ami-id': 'ami-0123456789abcdef0',
    'instance-type': 't3.micro',
    'placement/availability-zone': 'eu-west-1b',
    'placement/region': 'eu-west-1',
  });
  host = createAgentHost(
    {
      instance_id: 'auto',
      roles: ['web', 'api'],
      schedule: '*/3 * * * * *',
      splay: '1s',
      drift_check_every: '1h',
      stop_grace: '20s',
      source: { url: server.url, ssh_key: server.clientKey, known_hosts: server.knownHosts, port: server.port, timeout: '30s' },
      report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
    },
    { ...s3.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint },
  );
  const keys = join(host.dir, 'ssh');
  mkdirSync(keys);
  writeFileSync(join(keys, 'ssh_host_ed25519_key.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTests root@build\n');
  host.env.AGENT_SSH_HOST_KEY_DIR = keys;
  const hookOut = join(host.dir, 'registered.env');
  host.writeConfig({ hooks: { after_register: [['/bin/sh', '-c', `env | grep ^AGENT_ | sort > ${hookOut}`]] }, metrics: { textfile: join(host.dir, 'agent.prom') } });
  daemon = execa(process.execPath, [AGENT_BIN, 'daemon', '--config', host.configPath], { env: host.env, reject: false, all: true });
  daemon.all?.on('data', (chunk: Buffer) => (daemonLog += chunk.toString()));
}, 60_000);

afterAll(async () => {
  daemon?.kill('SIGKILL');
  await server?.remove();
  await s3?.remove();
  await imds?.stop();
  host?.remove();
});

describe('agent daemon', () => {
  it('registers with what IMDSv2 says, and runs the after_register hook', async () => {
    const key = `registry/${ID}.json`;
    await waitFor(async () => (await listKeys(s3.client, 'fleet-reports', 'registry/')).includes(key));
    const entry = JSON.parse(await getText(s3.client, 'fleet-reports', key));
    expect(entry).toMatchObject({
      schema: 'agent.registration/v1',
      instance_id: ID,
      private_ip: '10.1.2.3',
      public_ip: '203.0.113.9',
      ami_id: 'ami-0123456789abcdef0',
      instance_type: 't3.micro',
      availability_zone: 'eu-west-1b',
      region: 'eu-west-1',
      roles: ['web', 'api'],
      ssh_host_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTests'],
    });
    expect(imds.requests).toContain('PUT /latest/api/token');
    await waitFor(async () => existsSync(join(host.dir, 'registered.env')) && readFileSync(join(host.dir, 'registered.env'), 'utf8').includes('AGENT_ROLES'));
    expect(readFileSync(join(host.dir, 'registered.env'), 'utf8')).toContain(`AGENT_INSTANCE_ID=${ID}\n`);
    expect(readFileSync(join(host.dir, 'registered.env'), 'utf8')).toContain('AGENT_ROLES=web,api\n');
  });

  it('applies at boot and reports it', async () => {
    await waitFor(async () => (await listKeys(s3.client, 'fleet-reports', 'latest/')).length === 1);
    const latest = JSON.parse(await getText(s3.client, 'fleet-reports', `latest/${ID}.json`));
    expect(latest).toMatchObject({ trigger: 'boot', result: 'changed', instance: { id: ID, private_ip: '10.1.2.3' } });
    expect(readFileSync(join(host.sandbox, 'managed/role'), 'utf8')).toBe(`roles=web,api instance=${ID}\n`);
  });

  it('polls on schedule without applying or writing to S3 while nothing changed', async () => {
    const before = await reportKeys();
    await waitFor(async () => (await status()).last_run?.trigger === 'schedule');
    const first = (await status()).last_run;
    await waitFor(async () => (await status()).last_run?.run_id !== first.run_id);
    const polled = await status();
    expect(polled.last_run).toMatchObject({ trigger: 'schedule', apply: { status: 'skipped' }, result: 'compliant' });
    expect(polled.last_apply.trigger).toBe('boot');
    expect(await reportKeys()).toBe(before);
    expect(polled.daemon.pid).toBe(daemon.pid);
    expect(Math.abs(Date.parse(polled.next_run_at) - Date.now())).toBeLessThan(10_000); // every 3 s + up to 1 s splay
    expect(readFileSync(join(host.dir, 'agent.prom'), 'utf8')).toMatch(/agent_runs_total\{result="skipped"\} \d+/);
  });

  it('applies a change on the manifest server at the next poll', async () => {
    const site = join(server.distDir, 'manifests/site.pp');
    writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome from the daemon'));
    await waitFor(async () => existsSync(join(host.sandbox, 'managed/motd')) && readFileSync(join(host.sandbox, 'managed/motd'), 'utf8') === 'welcome from the daemon\n');
    await waitFor(async () => JSON.parse(await getText(s3.client, 'fleet-reports', `latest/${ID}.json`)).trigger === 'schedule');
    const latest = JSON.parse(await getText(s3.client, 'fleet-reports', `latest/${ID}.json`));
    expect(latest).toMatchObject({ result: 'changed', source: { status: 'updated' } });
  });

  it('a run-now from a shell waits for a scheduled run instead of overlapping it', async () => {
    const result = await host.run(['run-now', '--json', '--wait', '1m']);
    expect([0, 2]).toContain(result.exitCode);
  });

  it('keeps the running config when SIGHUP brings a broken one', async () => {
    const good = readFileSync(host.configPath, 'utf8');
    writeFileSync(host.configPath, `${good}\nsplay: not-a-duration\n`);
    daemon.kill('SIGHUP');
    await waitFor(async () => daemonLog.includes('new configuration rejected'));
    writeFileSync(host.configPath, good);
    const before = (await status()).last_run.run_id;
    await waitFor(async () => (await status()).last_run.run_id !== before);
    expect(daemon.exitCode).toBeNull();
  });

  it('survives kill -9 of a running child, and the next run is fine', async () => {
    const lockFile = join(host.stateDir, 'run.lock');
    let victim = 0;
    await waitFor(async () => {
      const text = existsSync(lockFile) ? readFileSync(lockFile, 'utf8') : '';
      const holder = text ? (JSON.parse(text) as { pid: number; trigger: string }) : null;
      if (holder && holder.trigger === 'schedule') victim = holder.pid;
      return victim > 0;
    });
    process.kill(victim, 'SIGKILL');
    const before = (await status()).last_run.run_id;
    await waitFor(async () => (await status()).last_run.run_id !== before);
    expect(daemon.exitCode).toBeNull();
    expect([0, 2]).toContain((await status()).last_run.exit_code);
  });

  it('starts a run on SIGUSR1 (trigger: signal)', async () => {
    daemon.kill('SIGUSR1');
    await waitFor(async () => (await status()).last_run?.trigger === 'signal');
    expect((await status()).last_run.apply.status).not.toBe('skipped'); // a requested run applies
  });

  it('idles small (figure printed for the benchmark issue)', async () => {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1]) / 1024;
    console.log(`agent daemon RSS after several runs: ${rss.toFixed(1)} MB`);
    expect(rss).toBeGreaterThan(0);
  });

  it('deregisters and exits 0 on SIGTERM', async () => {
    daemon.kill('SIGTERM');
    const result = await daemon;
    expect(result.exitCode).toBe(0);
    expect(await listKeys(s3.client, 'fleet-reports', 'registry/')).toEqual([]);
    expect((await status()).daemon).toBeNull();
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`condition not met in time; daemon log tail:\n${daemonLog.slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
