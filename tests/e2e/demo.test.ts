import { describe, it, expect, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_BIN } from '../helpers/agent-host.js';

/**
 * README step 1, `tests/demo/run-demo.sh --keep`, as a newcomer runs it (Puppet and rsync are already
 * here, so it installs nothing; AGENT_DEMO_LINK=no keeps /usr/local/bin as it is): the sample fleet looks
 * like a fleet, the demo ends with what to try next, and its fleet view runs again afterwards.
 */
const REPO = new URL('../..', import.meta.url).pathname;
const bin = mkdtempSync(join(tmpdir(), 'agent-demo-bin-'));
symlinkSync(AGENT_BIN, join(bin, 'agent'));
let stop = '';
let demoDir = '';
afterAll(async () => {
  if (stop) await execa('bash', ['-c', stop], { reject: false });
  if (demoDir) rmSync(demoDir, { recursive: true, force: true });
  rmSync(bin, { recursive: true, force: true });
});

describe('tests/demo/run-demo.sh --keep', () => {
  it('shows a fleet of three registered hosts, says what to try next, and leaves a fleet view that runs again', async () => {
    const demo = await execa('bash', [join(REPO, 'tests/demo/run-demo.sh'), '--keep'], {
      env: { AGENT_DEMO_LINK: 'no', NODE_OPTIONS: '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined },
      reject: false,
      all: true,
      timeout: 840_000,
    });
    const output = String(demo.all);
    stop = /stop the servers with: +(kill \d+ \d+)/.exec(output)?.[1] ?? '';
    demoDir = /demo files are in (\/tmp\/agent-demo-\w+)/.exec(output)?.[1] ?? '';
    expect(demo.exitCode).toBe(0);
    expect(output).not.toContain('NodeVersionSupportWarning');
    expect(stop).not.toBe('');
    // a fleet: every host registered (none "deregistered"), each on its own address
    const table = output.slice(output.indexOf('agent fleet status'));
    expect(table).toMatch(/^3 instances: /m);
    expect(table).not.toMatch(/deregistered|unreported/);
    const ips = [...output.matchAll(/^(i-\S+) +(\d+\.\d+\.\d+\.\d+) /gm)].map((match) => `${match[1]} ${match[2]}`);
    const distinct = new Set(ips);
    expect(distinct.size).toBeGreaterThanOrEqual(3);
    expect(new Set([...distinct].map((row) => row.split(' ')[1])).size).toBe(new Set([...distinct].map((row) => row.split(' ')[0])).size);
    // what to try next, with the commands and the way to stop what was kept
    expect(output).toMatch(/== what to try next/);
    expect(output).toMatch(new RegExp(`\\. ${demoDir}/env\\.sh`));
    expect(output).toMatch(/agent fleet status/);

    // later, in a new shell: the fleet view and status run again from what the demo left
    const later = await execa('bash', ['-c', `. ${demoDir}/env.sh && agent fleet status && agent status`], {
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: demoDir },
      extendEnv: false,
      reject: false,
    });
    expect(later.stderr).not.toMatch(/credentials|NodeVersionSupportWarning/);
    expect(later.exitCode).toBe(0);
    expect(later.stdout).toMatch(/^\d+ instances: /m);
    expect(later.stdout).not.toMatch(/deregistered|unreported/);
    expect(later.stdout).toMatch(/^last run: +corrected \(exit 2: changes applied\)/m);
  }, 900_000);
});
