import { describe, it, expect, afterAll } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_BIN } from '../helpers/agent-host.js';

const BROKEN = new URL('../fixtures/configs/broken/', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'agent-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function agent(args: string[]) {
  const result = await execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: { AGENT_CONFIG: '/nonexistent/agent.yaml' } });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('usage errors exit 64 for every command', () => {
  it.each([[['frobnicate']], [['run-now', '--bogus']], [['status', 'extra']], [['config']], [['run-now', '--wait', 'forever']]])(
    '%j',
    async (argv) => {
      const result = await agent(argv);
      expect(result.exitCode).toBe(64);
      expect(result.stderr).toMatch(/usage: agent/);
    },
  );

  it("--version prints the version and the commit", async () => {
    const result = await agent(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^agent \d+\.\d+\.\d+ \(commit [0-9a-f]{12}\)$/);
  });

  it('--help exits 0 and lists the commands', async () => {
    const result = await agent(['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/run-now/);
  });
});

describe('a broken config', () => {
  const expectations = JSON.parse(readFileSync(join(BROKEN, 'expect.json'), 'utf8')) as Record<string, string>;

  it.each(Object.keys(expectations))('%s: exit 1, the key named, nothing created', async (file) => {
    // point state_dir/stage_dir at paths that must not appear
    const stateDir = join(scratch, `state-${file}`);
    const text = readFileSync(join(BROKEN, file), 'utf8');
    const configPath = join(scratch, file);
    const relocatable = !/^state_dir|^stage_dir|^- /m.test(text) && !file.startsWith('yaml-syntax') && !file.startsWith('duplicate');
    writeFileSync(configPath, relocatable ? `${text}\nstate_dir: ${stateDir}\nstage_dir: ${stateDir}-stage\n` : text);
    for (const command of [['config', 'check'], ['run-now', '--no-wait']]) {
      const result = await agent([...command, '--config', configPath]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(expectations[file]);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(readdirSync(scratch).filter((name) => name.startsWith(`state-${file}`))).toEqual([]);
  });

  it('a missing config file names the path', async () => {
    const result = await agent(['run-now', '--config', '/nonexistent/agent-test.yaml']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no config file: /nonexistent/agent-test.yaml does not exist');
  });
});

describe('config check', () => {
  it('prints the resolved config with defaults and exits 0', async () => {
    const configPath = join(scratch, 'good.yaml');
    writeFileSync(configPath, 'source:\n  url: /srv/dist/\nreport:\n  bucket: fleet-reports\n  redact: ["token=\\\\S+"]\n');
    const result = await agent(['config', 'check', '--config', configPath]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`# ${configPath}: valid`);
    expect(result.stdout).toMatch(/drift_check_every: 30m/);
    expect(result.stdout).toMatch(/spool_max: 1000/);
  });
});
