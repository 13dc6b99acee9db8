import { describe, it, expect } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../agent/config/load.js';
import { parseDuration, formatDuration } from '../../agent/config/duration.js';
import { maskSecrets } from '../../agent/config/mask.js';
import { AgentError } from '../../agent/errors.js';

const fixtures = join(import.meta.dirname, '../fixtures/configs');
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const noFiles = () => false;
const allFiles = () => true;

function configError(text: string, name = 'agent.yaml', fileExists = noFiles): string {
  try {
    parseConfig(text, `/etc/agent/${name}`, fileExists);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('config');
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfig', () => {
  it('fills every default for a minimal config', () => {
    const config = parseConfig(read('valid-minimal.yaml'), 'agent.yaml', noFiles);
    expect(config.instance_id).toBe('auto');
    expect(config.schedule).toBe('*/5 * * * *');
    expect(config.splay).toBe(300_000);
    expect(config.drift_check_every).toBe(1_800_000);
    expect(config.source).toMatchObject({ type: 'rsync', port: 22, timeout: 300_000, known_hosts: '/etc/agent/ssh/known_hosts' });
    expect(config.puppet).toMatchObject({ bin: 'puppet', manifest: 'manifests', mode: 'enforce', timeout: 1_800_000 });
    expect(config.report).toMatchObject({ bucket: 'fleet-reports', keep_local: 50, spool_max: 1000, force_path_style: false });
    expect(config.hooks.timeout).toBe(30_000);
    expect(config.metrics.textfile).toBe('/var/lib/prometheus/node-exporter/agent.prom');
  });

  it('accepts the full example of SPEC §3 when the files it names exist', () => {
    const config = parseConfig(read('valid-full.yaml'), 'agent.yaml', allFiles);
    expect(config.roles).toEqual(['web', 'frontend']);
    expect(config.hooks.after_register).toEqual([['/usr/local/bin/add-to-monitoring']]);
  });

  it('returns a frozen config', () => {
    const config = parseConfig(read('valid-minimal.yaml'), 'agent.yaml', noFiles);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.source)).toBe(true);
  });

  it('accepts 6-field cron expressions with seconds first', () => {
    const config = parseConfig('schedule: "*/3 * * * * *"\nsplay: 2s\nsource: {url: /x/}\nreport: {bucket: b}\n', 'a.yaml', noFiles);
    expect(config.splay).toBe(2000);
  });

  it('needs a bucket rather than a url for an S3 source', () => {
    expect(configError('source: {type: s3}\nreport: {bucket: b}\n')).toContain('source.bucket: required for type s3');
    const config = parseConfig('source: {type: s3, bucket: releases}\nreport: {bucket: b}\n', 'a.yaml', noFiles);
    expect(config.source.bucket).toBe('releases');
  });

  it('lists every problem at once, each with file and key path', () => {
    const message = configError('splay: soon\nsource:\n  url: /x/\n  port: 0\n  colour: blue\nreport: {bucket: b}\nlog: {level: loud}\n');
    const lines = message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agent\.yaml: splay: expected a duration/),
        expect.stringMatching(/^agent\.yaml: source\.port: expected an integer 1-65535, got 0/),
        expect.stringMatching(/^agent\.yaml: source\.colour: unknown key/),
        expect.stringMatching(/^agent\.yaml: log\.level: expected one of/),
      ]),
    );
  });

  describe('the broken-config corpus', () => {
    const expectations = JSON.parse(read('broken/expect.json')) as Record<string, string>;
    const files = readdirSync(join(fixtures, 'broken')).filter((name) => name.endsWith('.yaml'));

    it('has an expectation for every broken config', () => {
      expect(files.sort()).toEqual(Object.keys(expectations).sort());
    });

    it.each(files)('%s is rejected with a message naming the file and the key', (file) => {
      const message = configError(read(`broken/${file}`), file);
      expect(message).toContain(`${file}: `);
      expect(message).toContain(expectations[file]);
    });
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['90', 90_000],
    [90, 90_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '1.5m', '-1', '10 m', '5min', 'm'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('formats in the largest exact unit', () => {
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(86_400_000)).toBe('1d');
  });
});

describe('maskSecrets', () => {
  it('masks secret-looking keys and passwords in URLs, and leaves paths alone', () => {
    const masked = maskSecrets({
      source: { url: 'https://user:hunter2@example.com/x', ssh_key: '/etc/agent/ssh/id_ed25519' },
      aws: { secret_access_key: 'AKIAsecret', session_token: 'tok' },
    });
    expect(JSON.stringify(masked)).not.toMatch(/hunter2|AKIAsecret|tok"/);
    expect(masked).toMatchObject({ source: { ssh_key: '/etc/agent/ssh/id_ed25519' } });
  });
});

describe('puppet.modulepath', () => {
  const base = 'source: {url: /srv/dist/}\nreport: {bucket: b}\n';
  it('takes one directory, Puppet\'s colon list, or a YAML list, and defaults to modules', () => {
    expect(parseConfig(base, 'agent.yaml', noFiles).puppet.modulepath).toEqual(['modules']);
    expect(parseConfig(`${base}puppet: {modulepath: site/modules}\n`, 'agent.yaml', noFiles).puppet.modulepath).toEqual(['site/modules']);
    expect(parseConfig(`${base}puppet: {modulepath: "site:modules"}\n`, 'agent.yaml', noFiles).puppet.modulepath).toEqual(['site', 'modules']);
    expect(parseConfig(`${base}puppet: {modulepath: [site, modules]}\n`, 'agent.yaml', noFiles).puppet.modulepath).toEqual(['site', 'modules']);
  });

  it('names the entry that leaves the tree, and refuses what is not a path', () => {
    expect(configError(`${base}puppet: {modulepath: [site, /etc/puppet/modules]}\n`)).toContain('agent.yaml: puppet.modulepath.1: expected a path inside the staged tree, got "/etc/puppet/modules"');
    expect(configError(`${base}puppet: {modulepath: 42}\n`)).toMatch(/puppet\.modulepath: expected a directory, a colon list \(site:modules\) or a list of directories, got/);
  });
});
