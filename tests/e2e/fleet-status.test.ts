import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { startS3Server, listKeys, type S3Server } from '../helpers/s3.js';
import { AGENT_BIN } from '../helpers/agent-host.js';

/** `agent fleet status|hosts|targets|prune` against seeded registry and latest/ objects on a real S3 API. */
let s3: S3Server;
const now = Date.now();
const iso = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

function registration(id: string, ip: string, roles: string[], registeredMinutesAgo = 600) {
  return { schema: 'agent.registration/v1', instance_id: id, hostname: id, private_ip: ip, public_ip: `198.51.100.${ip.split('.')[3]}`, ami_id: 'ami-1', instance_type: 't3.micro', availability_zone: 'us-east-1a', region: 'us-east-1', roles, ssh_host_keys: ['ssh-ed25519 AAAAC3Nza'], agent_version: '0.1.0', registered_at: iso(registeredMinutesAgo) };
}
function report(id: string, result: string, finishedMinutesAgo = 5, extra: Record<string, unknown> = {}) {
  return {
    schema: 'agent.report/v1', run_id: `run-${id}`, agent_version: '0.1.0', trigger: 'schedule', mode: result === 'drifted' ? 'noop' : 'enforce',
    instance: { id, hostname: id, private_ip: null }, started_at: iso(finishedMinutesAgo), finished_at: iso(finishedMinutesAgo), duration_ms: 1500,
    next_due_at: iso(finishedMinutesAgo - 35),
    source: { type: 'rsync', url_or_bucket: 'x', status: 'unchanged', release_id: 'aaaabbbbcccc1111', files_changed: 0, bytes_transferred: 0 },
    apply: { status: 'unchanged', release_id: result === 'changed' ? 'ddddeeeeffff2222' : 'aaaabbbbcccc1111', puppet_version: '7.23.0', puppet_exit_code: 0, duration_ms: 1000 },
    drift: { resources_total: 10, out_of_sync: result === 'compliant' ? 0 : 2, corrective: result === 'corrected' || result === 'drifted' ? 2 : 0, intentional: 0, failed: result === 'failed' ? 1 : 0, flapping: result === 'corrected' ? 1 : 0, resources: [] },
    result, exit_code: { compliant: 0, changed: 2, corrected: 2, drifted: 2, failed: 4, error: 1, disabled: 3 }[result] ?? 0,
    ...extra,
  };
}

async function put(bucket: string, key: string, body: unknown) {
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body), ContentType: 'application/json' }));
}

async function fleet(args: string[], bucket = 'fleet-reports') {
  const result = await execa(process.execPath, [AGENT_BIN, 'fleet', ...args, '--bucket', bucket, '--endpoint', s3.endpoint, '--path-style'], {
    reject: false,
    env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' },
  });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', 'big-fleet'] });
  const results = ['compliant', 'changed', 'corrected', 'drifted', 'failed', 'error'];
  for (const [index, result] of results.entries()) {
    const id = `i-${result}`;
    await put('fleet-reports', `registry/${id}.json`, registration(id, `10.0.1.${index + 1}`, index % 2 ? ['db'] : ['web']));
    await put('fleet-reports', `latest/${id}.json`, report(id, result));
  }
  await put('fleet-reports', 'registry/i-disabled.json', registration('i-disabled', '10.0.1.20', ['web']));
  await put('fleet-reports', 'latest/i-disabled.json', report('i-disabled', 'disabled', 5, { disabled: { reason: 'kernel upgrade', by: 'alice', at: iso(90), until: null } }));
  await put('fleet-reports', 'registry/i-silent.json', registration('i-silent', '10.0.1.21', ['web'], 3000));
  await put('fleet-reports', 'latest/i-silent.json', report('i-silent', 'compliant', 2000));
  await put('fleet-reports', 'latest/i-terminated.json', report('i-terminated', 'compliant'));
  await put('fleet-reports', 'registry/i-garbled.json', '{"schema": "agent.registration/v1", "instance_id": ');
  await put('fleet-reports', 'registry/i-crashed.json', registration('i-crashed', '10.0.1.22', ['web'], 5000));
}, 60_000);
afterAll(async () => s3?.remove());

describe('agent fleet status', () => {
  it('shows every result class, stale, deregistered, disabled and unreadable entries', async () => {
    const { exitCode, stdout } = await fleet(['status', '--json']);
    expect(exitCode).toBe(0);
    const view = JSON.parse(stdout);
    expect(view.schema).toBe('agent.fleet/v1');
    const state = Object.fromEntries(view.instances.map((row: { instance_id: string; state: string }) => [row.instance_id, row.state]));
    expect(state).toEqual({
      'i-changed': 'changed', 'i-compliant': 'compliant', 'i-corrected': 'corrected', 'i-crashed': 'unreported', 'i-disabled': 'disabled',
      'i-drifted': 'drifted', 'i-error': 'error', 'i-failed': 'failed', 'i-garbled': 'unreadable', 'i-silent': 'stale', 'i-terminated': 'deregistered',
    });
    const disabled = view.instances.find((row: { instance_id: string }) => row.instance_id === 'i-disabled');
    expect(disabled.disabled).toMatchObject({ reason: 'kernel upgrade', by: 'alice' });
    expect(view.summary.by_release).toEqual({ aaaabbbbcccc: 8, ddddeeeeffff: 1 });
    expect(view.instances[0]).toEqual(expect.objectContaining({ instance_id: expect.any(String), private_ip: expect.anything(), roles: expect.any(Array), release_id: expect.anything(), last_run_at: expect.anything(), drift: expect.anything() }));
  });

  it('filters by role and by result', async () => {
    const byRole = JSON.parse((await fleet(['status', '--json', '--role', 'db'])).stdout);
    expect(byRole.instances.map((row: { instance_id: string }) => row.instance_id)).toEqual(['i-changed', 'i-drifted', 'i-error']);
    const failed = JSON.parse((await fleet(['status', '--json', '--result', 'failed'])).stdout);
    expect(failed.instances.map((row: { instance_id: string }) => row.instance_id)).toEqual(['i-failed']);
  });

  it('prints a readable table with a summary line and no colours when not on a TTY', async () => {
    const { stdout } = await fleet(['status']);
    expect(stdout).toMatch(/^INSTANCE +PRIVATE IP +ROLES +RELEASE +LAST RUN +STATE/);
    expect(stdout).toMatch(/i-disabled +10\.0\.1\.20 .* disabled .*kernel upgrade \(alice, 90m ago\)/);
    expect(stdout).toMatch(/11 instances: .*1 stale/);
    expect(stdout).not.toContain('\x1b[');
  });
});

describe('agent fleet hosts and targets', () => {
  it('lists addresses for a role, private or public', async () => {
    // (execa strips the final newline)
    expect((await fleet(['hosts', '--role', 'db'])).stdout).toBe('10.0.1.2\n10.0.1.4\n10.0.1.6');
    expect((await fleet(['hosts', '--role', 'db', '--ip', 'public'])).stdout).toBe('198.51.100.2\n198.51.100.4\n198.51.100.6');
    expect((await fleet(['hosts', '--result', 'failed'])).stdout).toBe('10.0.1.5');
  });

  it('writes Prometheus file_sd JSON', async () => {
    const targets = JSON.parse((await fleet(['targets', '--port', '9100', '--role', 'db'])).stdout);
    expect(targets[0]).toEqual({ targets: ['10.0.1.2:9100'], labels: { instance_id: 'i-changed', roles: 'db', release: 'ddddeeeeffff2222' } });
  });
});

describe('agent fleet prune', () => {
  it('says what it would remove with --dry-run, then removes registry entries of hosts silent for longer than --older-than', async () => {
    const dry = await fleet(['prune', '--older-than', '1d', '--dry-run']);
    expect(dry.stdout).toContain('would remove registry/i-silent.json');
    expect(dry.stdout).toContain('would remove registry/i-crashed.json');
    expect(dry.stdout).toContain('would remove registry/i-garbled.json'); // unreadable and never reported
    expect(dry.stdout).not.toContain('i-compliant');
    expect(await listKeys(s3.client, 'fleet-reports', 'registry/i-silent')).toHaveLength(1);
    const real = await fleet(['prune', '--older-than', '1d']);
    expect(real.stdout).toMatch(/3 registry entries removed/);
    expect(await listKeys(s3.client, 'fleet-reports', 'registry/i-silent')).toHaveLength(0);
  });
});

describe('fleet status at scale', () => {
  it('reads 10,000 instances in the time an operator will wait (figure printed)', async () => {
    const ids = Array.from({ length: 10_000 }, (_, index) => `i-${index.toString(16).padStart(8, '0')}`);
    let next = 0;
    const seed = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        await put('big-fleet', `registry/${id}.json`, registration(id, '10.2.0.1', ['web']));
        await put('big-fleet', `latest/${id}.json`, report(id, 'compliant'));
      }
    };
    const seeding = Date.now();
    await Promise.all(Array.from({ length: 32 }, seed));
    const started = Date.now();
    const { exitCode, stdout } = await fleet(['status', '--json'], 'big-fleet');
    const seconds = (Date.now() - started) / 1000;
    console.log(`fleet status over 10,000 instances: ${seconds.toFixed(1)} s (seeding took ${((started - seeding) / 1000).toFixed(1)} s)`);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).summary.instances).toBe(10_000);
  }, 300_000);
});
