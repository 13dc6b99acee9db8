import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENT_BIN } from '../helpers/agent-host.js';

const UNITS = new URL('../../systemd/', import.meta.url).pathname;

describe('systemd units', () => {
  it.each(readdirSync(UNITS).filter((name) => /\.(service|timer)$/.test(name)))('%s passes systemd-analyze verify', async (name) => {
    // verify wants ExecStart's binary to exist: point it at the build instead of /usr/local/bin (FIELD-NOTES);
    // a timer is verified beside the service it starts
    const dir = mkdtempSync(join(tmpdir(), 'agent-unit-'));
    for (const unitName of readdirSync(UNITS)) {
      const unit = readFileSync(join(UNITS, unitName), 'utf8');
      if (unitName.endsWith('.service')) expect(unit).toContain('ExecStart=/usr/local/bin/agent ');
      writeFileSync(join(dir, unitName), unit.replaceAll('/usr/local/bin/agent', AGENT_BIN));
    }
    const result = await execa('systemd-analyze', ['verify', '--man=no', join(dir, name)], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('the publisher timer runs one rollout tick a minute, with the key as a credential and no root', async () => {
    const service = readFileSync(join(UNITS, 'agent-rollout.service'), 'utf8');
    const timer = readFileSync(join(UNITS, 'agent-rollout.timer'), 'utf8');
    expect(service).toMatch(/^ExecStart=\/usr\/local\/bin\/agent rollout tick --key %d\/release\.key \$AGENT_ROLLOUT_ARGS$/m);
    expect(service).toMatch(/^LoadCredential=release\.key:\/etc\/agent\/release\.key$/m);
    expect(service).toMatch(/^DynamicUser=yes$/m);
    expect(timer).toMatch(/^Unit=agent-rollout\.service$/m);
    const onCalendar = /^OnCalendar=(.+)$/m.exec(timer)![1]!;
    const next = await execa('systemd-analyze', ['calendar', '--iterations=2', onCalendar]);
    const times = [...next.stdout.matchAll(/(?:Next elapse|Iter\. #2): \w+ (\S+ \S+)/g)].map((match) => Date.parse(`${match[1]!.replace(' ', 'T')}Z`));
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBe(60_000);
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
