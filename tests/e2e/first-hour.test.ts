import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startS3Server } from '../helpers/s3.js';
import { AGENT_BIN, createLocalSourceHost, type AgentHost } from '../helpers/agent-host.js';

/**
 * Issue #16, a newcomer's first hour, through the built binary: no SDK warnings, plain text when
 * output is piped (run-now over ssh), and a missing config that says where the agent looked.
 */
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let scratch: string;
let host: AgentHost;
let removeHost: () => void;
const REPO = new URL('../..', import.meta.url).pathname;

async function agent(args: string[], env: Record<string, string | undefined> = {}) {
  const result = await execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: { NODE_OPTIONS: '', AGENT_CONFIG: undefined, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined, ...env } });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports'] });
  scratch = mkdtempSync(join(tmpdir(), 'agent-first-hour-'));
  ({ host, remove: removeHost } = createLocalSourceHost(s3));
}, 60_000);
afterAll(async () => {
  removeHost?.();
  rmSync(scratch, { recursive: true, force: true });
  await s3?.remove();
});

describe('the AWS SDK', () => {
  it('never prints its NodeVersionSupportWarning from our binary, even on a Node it warns about', async () => {
    // the SDK warns below Node 22: make any Node look like 20 to the SDK, so the check holds on newer ones too
    const node20 = join(scratch, 'node20.mjs');
    writeFileSync(node20, "Object.defineProperty(process, 'version', { value: 'v20.0.0' });\n");
    const args = ['fleet', 'status', '--bucket', 'fleet-reports', '--endpoint', s3.endpoint, '--path-style'];
    // (jest's own process sets the SDK's switch, see package.json setupFiles: the binary must not need it)
    const env = { ...s3.env, NODE_OPTIONS: `--import=${node20}` };
    const ours = await agent(args, env);
    expect(ours.exitCode).toBe(0);
    expect(ours.stderr).not.toContain('NodeVersionSupportWarning');
    // the same process with the SDK's switch turned back: the warning is real, and it is that switch that stops it
    const noisy = await agent(args, { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    expect(noisy.stderr).toContain('NodeVersionSupportWarning');
  });
});

describe('run-now with its output piped (ssh host agent run-now)', () => {
  it('prints plain text lines, one per stage, and its log warnings as text: no JSON anywhere', async () => {
    // reports cannot be delivered: the run logs warnings, which must come out as text too
    host.writeConfig({ report: { endpoint: 'http://127.0.0.1:9' } });
    const result = await host.run(['run-now']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter(Boolean);
    for (const line of lines) expect(line).toMatch(/^agent: |^ {2}/);
    expect(result.stderr).not.toContain('{"level"');
    expect(result.stderr).toMatch(/^agent: (warning|error) +.*report/m);
    for (const stage of ['poll', 'stage', 'apply', 'report']) expect(result.stderr).toMatch(new RegExp(`^agent: ${stage} `, 'm'));
  });
});

describe('no config file', () => {
  const missing = '/nonexistent/agent.yaml';

  it('agent status says where it looked and where to start, and exits 0', async () => {
    const result = await agent(['status'], { AGENT_CONFIG: missing });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^not configured/);
    expect(result.stderr).not.toContain('invalid configuration');
    expect(result.stderr).toContain(`no config file: ${missing} does not exist`);
    expect(result.stderr).toContain(`looked at, in order: --config PATH (not given), $AGENT_CONFIG=${missing} (no such file), /etc/agent/agent.yaml (not used)`);
    expect(result.stderr).toContain(`start from the example ${join(REPO, 'ami/agent.yaml.template')}`);
    expect(existsSync(join(REPO, 'ami/agent.yaml.template'))).toBe(true);
  });

  it('agent status --json says configured: false', async () => {
    const result = await agent(['status', '--json', '--config', missing]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ schema: 'agent.status/v1', configured: false });
  });

  it('run-now exits 1 and the daemon 78, with the same guidance', async () => {
    const run = await agent(['run-now', '--config', missing]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`looked at, in order: --config ${missing} (no such file)`);
    const daemon = await agent(['daemon', '--config', missing]);
    expect(daemon.exitCode).toBe(78);
    expect(daemon.stderr).toContain('agent.yaml.template');
  });
});
