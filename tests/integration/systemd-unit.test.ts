import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_BIN } from '../helpers/agent-host.js';

const UNITS = new URL('../../systemd/', import.meta.url).pathname;

describe('systemd units', () => {
  it.each(readdirSync(UNITS).filter((name) => name.endsWith('.service')))('%s passes systemd-analyze verify', async (name) => {
    // verify wants ExecStart's binary to exist: point it at the build instead of /usr/local/bin (FIELD-NOTES)
    const dir = mkdtempSync(join(tmpdir(), 'agent-unit-'));
    const unit = readFileSync(join(UNITS, name), 'utf8');
    expect(unit).toContain('ExecStart=/usr/local/bin/agent daemon');
    writeFileSync(join(dir, name), unit.replaceAll('/usr/local/bin/agent', AGENT_BIN));
    const result = await execa('systemd-analyze', ['verify', '--man=no', join(dir, name)], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('stops a bad config from crash-looping: the daemon exits with the status the unit will not restart on', async () => {
    const unit = readFileSync(join(UNITS, 'agent.service'), 'utf8');
    expect(unit).toMatch(/^RestartPreventExitStatus=78$/m);
    const dir = mkdtempSync(join(tmpdir(), 'agent-unit-'));
    writeFileSync(join(dir, 'agent.yaml'), 'source: {url: /x/, prot: 1}\nreport: {bucket: b}\n');
    const result = await execa(process.execPath, [AGENT_BIN, 'daemon', '--config', join(dir, 'agent.yaml')], { reject: false });
    expect(result.exitCode).toBe(78);
    expect(result.stderr).toContain('source.prot: unknown key');
  });
});
