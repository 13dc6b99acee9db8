import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigThroughSnapshot } from '../../agent/config/snapshot.js';
import { parseConfig } from '../../agent/config/load.js';

/** The daemon's runs read their config through a snapshot; it may only ever answer for the exact file. */
describe('config snapshot', () => {
  let dir: string;
  let configPath: string;
  let snapshotFile: string;
  const text = (schedule: string) => `schedule: "${schedule}"\nsource: {url: /srv/dist}\nreport: {bucket: reports}\n`;
  const snapshot = () => JSON.parse(readFileSync(snapshotFile, 'utf8'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-snapshot-'));
    configPath = join(dir, 'agent.yaml');
    snapshotFile = join(dir, 'state', 'config-snapshot.json');
    writeFileSync(configPath, text('*/5 * * * *'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('validates on a miss, keeps the result (0600), and answers with the same config as a fresh validation', async () => {
    const config = await loadConfigThroughSnapshot(configPath, snapshotFile);
    expect(config).toEqual(parseConfig(text('*/5 * * * *'), configPath, () => true));
    expect(snapshot().config).toEqual(config);
    expect(statSync(snapshotFile).mode & 0o777).toBe(0o600);
    const again = await loadConfigThroughSnapshot(configPath, snapshotFile);
    expect(again).toEqual(config);
    expect(Object.isFrozen(again.source)).toBe(true);
  });

  it('uses the snapshot while the file is byte for byte the same', async () => {
    await loadConfigThroughSnapshot(configPath, snapshotFile);
    // proof it is read: a snapshot that says something else for the same file digest is believed
    const kept = snapshot();
    writeFileSync(snapshotFile, JSON.stringify({ ...kept, config: { ...kept.config, roles: ['from-snapshot'] } }));
    expect((await loadConfigThroughSnapshot(configPath, snapshotFile)).roles).toEqual(['from-snapshot']);
  });

  it('validates afresh when the file changed, and replaces the snapshot', async () => {
    await loadConfigThroughSnapshot(configPath, snapshotFile);
    writeFileSync(configPath, text('*/10 * * * *'));
    expect((await loadConfigThroughSnapshot(configPath, snapshotFile)).schedule).toBe('*/10 * * * *');
    expect(snapshot().config.schedule).toBe('*/10 * * * *');
  });

  it('an edit that breaks the file fails the run with the file\'s own error, never the old snapshot', async () => {
    await loadConfigThroughSnapshot(configPath, snapshotFile);
    writeFileSync(configPath, text('every five minutes'));
    await expect(loadConfigThroughSnapshot(configPath, snapshotFile)).rejects.toThrow(/agent\.yaml: schedule: expected a cron expression/);
  });

  it('ignores a snapshot of another build, another path or no sense at all', async () => {
    await loadConfigThroughSnapshot(configPath, snapshotFile);
    const kept = snapshot();
    const believed = { ...kept.config, roles: ['from-snapshot'] };
    for (const stale of [{ ...kept, build: 'older', config: believed }, { ...kept, path: '/etc/other.yaml', config: believed }, { ...kept, schema: 'x', config: believed }]) {
      writeFileSync(snapshotFile, JSON.stringify(stale));
      expect((await loadConfigThroughSnapshot(configPath, snapshotFile)).roles).toEqual([]);
    }
    writeFileSync(snapshotFile, '{ not json');
    expect((await loadConfigThroughSnapshot(configPath, snapshotFile)).schedule).toBe('*/5 * * * *');
  });

  it('checks the files the config names every time (a deleted key is an error, snapshot or not)', async () => {
    const key = join(dir, 'release.pub');
    writeFileSync(key, 'key');
    writeFileSync(configPath, `${text('*/5 * * * *')}verify: {public_keys: [${key}]}\n`);
    await loadConfigThroughSnapshot(configPath, snapshotFile);
    unlinkSync(key);
    await expect(loadConfigThroughSnapshot(configPath, snapshotFile)).rejects.toThrow(/verify\.public_keys\.0: expected an existing public key file/);
  });

  it('an unreadable file is the usual config error, naming it', async () => {
    await expect(loadConfigThroughSnapshot(join(dir, 'missing.yaml'), snapshotFile)).rejects.toThrow(/missing\.yaml: cannot read the config file: no such file/);
  });
});
