import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3Server, listKeys, getText, type S3Server } from '../helpers/s3.js';
import { createLocalSourceHost, type AgentHost } from '../helpers/agent-host.js';

let s3: S3Server;
let host: AgentHost;
let removeHost: () => void;

beforeAll(async () => {
  s3 = await startS3Server();
  ({ host, remove: removeHost } = createLocalSourceHost(s3, { drift_check_every: '1h' }));
});
afterAll(async () => {
  removeHost?.();
  await s3?.remove();
});

describe('agent disable / enable', () => {
  it('records who and why, and run-now exits 3 saying so', async () => {
    const disabled = await host.run(['disable', 'database', 'migration', '--for', '1h'], { env: { SUDO_USER: 'alice' } });
    expect(disabled.exitCode).toBe(0);
    const run = await host.run(['run-now']);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/runs are disabled by alice since .* until .*: database migration/);
    const status = JSON.parse((await host.run(['status', '--json'])).stdout);
    expect(status.disabled).toMatchObject({ reason: 'database migration', by: 'alice' });
  });

  it('a scheduled run that would have applied reports result disabled, exit 3', async () => {
    const run = await host.run(['run-now', '--trigger', 'schedule', '--json']);
    expect(run.exitCode).toBe(3);
    const latest = JSON.parse(await getText(s3.client, 'fleet-reports', 'latest/i-0e2e000000000001.json'));
    expect(latest).toMatchObject({ result: 'disabled', exit_code: 3, trigger: 'schedule', disabled: { reason: 'database migration', by: 'alice' } });
    expect(latest.apply.status).toBe('skipped');
  });

  it('run-now --force overrides it', async () => {
    expect((await host.run(['run-now', '--force'])).exitCode).toBe(2);
  });

  it('a scheduled run with nothing due writes nothing to S3 while disabled', async () => {
    const before = (await listKeys(s3.client, 'fleet-reports', 'reports/')).length;
    expect((await host.run(['run-now', '--trigger', 'schedule'])).exitCode).toBe(3);
    expect((await listKeys(s3.client, 'fleet-reports', 'reports/')).length).toBe(before);
  });

  it('enable lifts it', async () => {
    const enabled = await host.run(['enable']);
    expect(enabled.stdout).toMatch(/runs enabled \(were disabled by alice: database migration\)/);
    expect((await host.run(['run-now'])).exitCode).toBe(0);
  });

  it('runs after_run hooks with the AGENT_* environment, and bounds a hanging one', async () => {
    const out = join(host.dir, 'after-run.env');
    host.writeConfig({ hooks: { timeout: '1s', after_run: [['/bin/sh', '-c', `env | grep ^AGENT_ | sort > ${out}`], ['/bin/sleep', '60'], ['/nonexistent/hook']] } });
    const started = Date.now();
    const run = await host.run(['run-now', '--json']);
    expect(run.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const env = readFileSync(out, 'utf8');
    const report = JSON.parse(run.stdout);
    expect(env).toContain(`AGENT_RUN_ID=${report.run_id}\n`);
    expect(env).toContain('AGENT_RESULT=compliant\n');
    expect(env).toContain('AGENT_EXIT_CODE=0\n');
    const reportPath = /AGENT_REPORT=(.*)\n/.exec(env)?.[1] ?? '';
    expect(JSON.parse(readFileSync(reportPath, 'utf8')).run_id).toBe(report.run_id);
    host.writeConfig({ hooks: { after_run: [] } });
  });

  it('a scheduled run with nothing new skips Puppet and writes nothing to S3', async () => {
    const before = (await listKeys(s3.client, 'fleet-reports', '')).length;
    const run = await host.run(['run-now', '--trigger', 'schedule', '--json']);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).apply.status).toBe('skipped');
    expect((await listKeys(s3.client, 'fleet-reports', '')).length).toBe(before);
  });
});
