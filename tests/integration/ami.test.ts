import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { parseConfig } from '../../agent/config/load.js';

/** The image-building files, checked with the real tools: shellcheck, packer, puppet, puppet-lint. */
const REPO = new URL('../..', import.meta.url).pathname;
const ami = (name: string) => join(REPO, 'ami', name);

describe('shell scripts', () => {
  const scripts = [...readdirSync(join(REPO, 'ami')).filter((name) => name.endsWith('.sh')).map(ami), join(REPO, '.ci/run'), join(REPO, 'tests/demo/run-demo.sh')];
  it.each(scripts)('%s is shellcheck-clean', async (script) => {
    const result = await execa('shellcheck', [script], { reject: false });
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

describe('ami/agent.pkr.hcl', () => {
  it('passes packer validate', async () => {
    // validate stats the files the provisioners upload: stand-ins for the artefact and the build's keys
    const dir = mkdtempSync(join(tmpdir(), 'agent-packer-'));
    for (const name of ['agent.tgz', 'known_hosts', 'id_ed25519', 'release.pub']) writeFileSync(join(dir, name), '');
    const vars = ['-var', `artifact=${join(dir, 'agent.tgz')}`, '-var', `manifest_host_key_file=${join(dir, 'known_hosts')}`, '-var', `client_key_file=${join(dir, 'id_ed25519')}`];
    vars.push('-var', `release_public_key_file=${join(dir, 'release.pub')}`);
    const result = await execa('packer', ['validate', ...vars, 'ami/agent.pkr.hcl'], { cwd: REPO, reject: false, env: { CHECKPOINT_DISABLE: '1' } });
    expect(result.stdout + result.stderr).not.toMatch(/Error/);
    expect(result.exitCode).toBe(0);
  });

  it('cleans per-instance state before the image is captured', () => {
    const template = readFileSync(ami('agent.pkr.hcl'), 'utf8');
    for (const step of ['truncate -s 0 /etc/machine-id', 'rm -f /etc/ssh/ssh_host_*', 'rm -rf /var/lib/agent/*', "sed -i '/packer/d'"]) expect(template).toContain(step);
  });
});

describe('ami/iam-policy.json', () => {
  const policy = JSON.parse(readFileSync(ami('iam-policy.json'), 'utf8')) as {
    Version: string;
    Statement: Array<{ Sid: string; Effect: string; Action: string[]; Resource: string[]; Condition?: unknown }>;
  };
  const allows = policy.Statement.filter((statement) => statement.Effect === 'Allow');

  it('is a 2012-10-17 policy of named statements', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const statement of policy.Statement) expect(statement.Sid).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('allows only object reads and writes: no wildcards, no listing, no bucket or ACL actions', () => {
    const actions = new Set(allows.flatMap((statement) => statement.Action));
    expect([...actions].sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    for (const statement of allows) for (const resource of statement.Resource) expect(resource).not.toMatch(/^arn:aws:s3:::[^/]*(\/\*)?$/);
  });

  it('reads the manifest source and writes only reports/, latest/, plans/ answers and registry/ keys of the report bucket', () => {
    for (const statement of allows) {
      for (const resource of statement.Resource) {
        if (resource.includes('MANIFEST_BUCKET')) expect(statement.Action).toEqual(['s3:GetObject']);
        else expect(resource).toMatch(/^arn:aws:s3:::REPORT_BUCKET\/REPORT_PREFIX(reports\/dt=\*|latest\/i-\*\.json|plans\/\*\/i-\*\.json|registry\/i-\*\.json)$/);
      }
    }
    const deletes = allows.filter((statement) => statement.Action.includes('s3:DeleteObject')).flatMap((statement) => statement.Resource);
    expect(deletes).toEqual(['arn:aws:s3:::REPORT_BUCKET/REPORT_PREFIXregistry/i-*.json']);
  });

  it('denies writes made without instance credentials', () => {
    const deny = policy.Statement.find((statement) => statement.Effect === 'Deny');
    expect(deny?.Condition).toEqual({ Null: { 'ec2:SourceInstanceARN': 'true' } });
  });
});

describe('ami/s3-lifecycle.json', () => {
  it('expires reports/ only', () => {
    const rules = JSON.parse(readFileSync(ami('s3-lifecycle.json'), 'utf8')).Rules;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ Status: 'Enabled', Filter: { Prefix: 'REPORT_PREFIXreports/' }, Expiration: { Days: expect.any(Number) } });
  });
});

describe('ami/user-data.yaml', () => {
  const text = readFileSync(ami('user-data.yaml'), 'utf8');
  const data = parse(text) as Record<string, unknown>;

  it('is cloud-config with known top-level keys only', () => {
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const known = ['package_update', 'packages', 'write_files', 'runcmd', 'bootcmd', 'users', 'ssh_authorized_keys'];
    for (const key of Object.keys(data)) expect(known).toContain(key);
  });

  it('writes an agent config that validates, and carries no private key', () => {
    const files = data.write_files as Array<{ path: string; content: string }>;
    const config = files.find((file) => file.path === '/etc/agent/agent.yaml')!;
    expect(parseConfig(config.content, 'agent.yaml', () => true).source.url).toMatch(/^agent@/);
    expect(text).not.toMatch(/PRIVATE KEY/);
  });
});

describe('manifests/ (the sample tree)', () => {
  const pp = ['manifests/manifests/site.pp', 'manifests/modules/ntpclient/manifests/init.pp'];

  it('passes puppet parser validate', async () => {
    const result = await execa('puppet', ['parser', 'validate', ...pp], { cwd: REPO, reject: false });
    expect(result.stderr.split('\n').filter((line) => line && !line.includes('Facter'))).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it('is puppet-lint clean', async () => {
    const result = await execa('puppet-lint', ['--fail-on-warnings', 'manifests/'], { cwd: REPO, reject: false });
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
