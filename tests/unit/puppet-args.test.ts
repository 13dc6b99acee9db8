import { describe, it, expect } from '@jest/globals';
import { puppetArgs, puppetFiles, type PuppetArgsInput } from '../../agent/apply/puppet-args.js';
import { factEnv, puppetErrorLines, versionIn } from '../../agent/apply/puppet-run.js';
import type { Config } from '../../agent/config/schema.js';

const PUPPET: Config['puppet'] = { bin: 'puppet', manifest: 'manifests', modulepath: ['modules'], mode: 'enforce', timeout: 1_800_000, hiera_config: '', extra_args: [] };

function args(overrides: Partial<Omit<PuppetArgsInput, 'config'>> & { puppet?: Partial<Config['puppet']> } = {}): string[] {
  const { puppet, ...rest } = overrides;
  return puppetArgs({
    config: { puppet: { ...PUPPET, ...puppet } },
    paths: { puppetDir: '/var/lib/agent/puppet' },
    releaseDir: '/var/lib/agent/releases/abc',
    mode: 'enforce',
    modules: [],
    ...rest,
  });
}

describe('puppetArgs', () => {
  it('runs puppet apply with detailed exit codes and every state directory under state_dir/puppet', () => {
    expect(args()).toEqual([
      'apply',
      '--detailed-exitcodes',
      '--color=false',
      '--confdir=/var/lib/agent/puppet/etc',
      '--codedir=/var/lib/agent/puppet/code',
      '--vardir=/var/lib/agent/puppet/var',
      '--publicdir=/var/lib/agent/puppet/public',
      '--rundir=/var/lib/agent/puppet/run',
      '--logdir=/var/lib/agent/puppet/log',
      '--lastrunreport=/var/lib/agent/puppet/last_run_report.yaml',
      '--lastrunfile=/var/lib/agent/puppet/last_run_summary.yaml',
      '--reports=none',
      '/var/lib/agent/releases/abc/manifests',
    ]);
  });

  it('puts the report where puppetFiles says the run will read it', () => {
    expect(args()).toContain(`--lastrunreport=${puppetFiles({ puppetDir: '/var/lib/agent/puppet' }).lastRunReport}`);
  });

  it('adds --noop only in noop mode', () => {
    expect(args({ mode: 'noop' })).toContain('--noop');
    expect(args({ mode: 'enforce' })).not.toContain('--noop');
  });

  it('passes the release modulepath only when the release has it', () => {
    expect(args({ modules: ['modules'] })).toContain('--modulepath=/var/lib/agent/releases/abc/modules');
    expect(args({ modules: [] }).some((arg) => arg.startsWith('--modulepath'))).toBe(false);
    expect(args({ modules: ['site/modules'] })).toContain('--modulepath=/var/lib/agent/releases/abc/site/modules');
  });

  it('passes a modulepath of several directories as the colon list Puppet takes, in order', () => {
    expect(args({ modules: ['site', 'modules'] })).toContain('--modulepath=/var/lib/agent/releases/abc/site:/var/lib/agent/releases/abc/modules');
  });

  it('passes hiera_config relative to the release only when it is set', () => {
    expect(args({ puppet: { hiera_config: 'hiera.yaml' } })).toContain('--hiera_config=/var/lib/agent/releases/abc/hiera.yaml');
    expect(args().some((arg) => arg.startsWith('--hiera_config'))).toBe(false);
  });

  it('puts extra_args after its own flags, so the operator wins, and the manifest last', () => {
    const argv = args({ modules: ['modules'], puppet: { extra_args: ['--strict=error', '--reports=store'], manifest: 'manifests/site.pp' } });
    expect(argv.slice(-3)).toEqual(['--strict=error', '--reports=store', '/var/lib/agent/releases/abc/manifests/site.pp']);
    expect(argv.indexOf('--modulepath=/var/lib/agent/releases/abc/modules')).toBeLessThan(argv.indexOf('--strict=error'));
  });
});

describe("reading Puppet's output", () => {
  it("keeps Puppet's Error: lines once each, without colours and without Facter's container noise", () => {
    const output = [
      'Error: Facter: Permission denied @ rb_sysopen - /proc/1/environ',
      '\x1b[1;31mError: Could not parse for environment production: Syntax error at end of input\x1b[0m',
      'Notice: Compiled catalog',
      'Error: Could not parse for environment production: Syntax error at end of input\r',
      '  Error: /Stage[main]/Main/Exec[x]/returns: change from notrun to 0 failed',
    ].join('\n');
    expect(puppetErrorLines(output)).toEqual([
      'Error: Could not parse for environment production: Syntax error at end of input',
      'Error: /Stage[main]/Main/Exec[x]/returns: change from notrun to 0 failed',
    ]);
  });

  it("reads puppet_version from the report's text", () => {
    expect(versionIn('--- !ruby/object:Puppet::Transaction::Report\nhost: vm\npuppet_version: 7.23.0\nstatus: changed\n')).toBe('7.23.0');
    expect(versionIn("puppet_version: '8.0'\n")).toBe('8.0');
    expect(versionIn('status: changed\n')).toBeNull();
  });

  it('passes facts as FACTER_ variables', () => {
    expect(factEnv({ agent_roles: 'web,db', sandbox: '/tmp/x' })).toEqual({ FACTER_agent_roles: 'web,db', FACTER_sandbox: '/tmp/x' });
  });
});
