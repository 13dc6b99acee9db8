import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { Mode } from '../report/types.js';

export interface PuppetFiles {
  lastRunReport: string;
  lastRunSummary: string;
}

export function puppetFiles(paths: Pick<StatePaths, 'puppetDir'>): PuppetFiles {
  return {
    lastRunReport: join(paths.puppetDir, 'last_run_report.yaml'),
    lastRunSummary: join(paths.puppetDir, 'last_run_summary.yaml'),
  };
}

export interface PuppetArgsInput {
  config: Pick<Config, 'puppet'>;
  paths: Pick<StatePaths, 'puppetDir'>;
  releaseDir: string;
  mode: Mode;
  /** Whether the release has the configured modulepath directory (a pure builder cannot look). */
  hasModules: boolean;
}

/**
 * `puppet apply` masterless, with all of Puppet's state under state_dir/puppet (SPEC §1.5), so it
 * never reads or writes the host's own /etc/puppet or /var/lib/puppet.
 * --detailed-exitcodes: 0 unchanged, 2 changed, 4 failures, 6 both (1 = could not run).
 * --reports none: no unbounded per-run `store` files; the last-run report is still written.
 */
export function puppetArgs(input: PuppetArgsInput): string[] {
  const { puppet } = input.config;
  const dir = input.paths.puppetDir;
  const files = puppetFiles(input.paths);
  const args = [
    'apply',
    '--detailed-exitcodes',
    '--color=false',
    `--confdir=${join(dir, 'etc')}`,
    `--codedir=${join(dir, 'code')}`,
    `--vardir=${join(dir, 'var')}`,
    `--publicdir=${join(dir, 'public')}`,
    `--rundir=${join(dir, 'run')}`,
    `--logdir=${join(dir, 'log')}`,
    `--lastrunreport=${files.lastRunReport}`,
    `--lastrunfile=${files.lastRunSummary}`,
    '--reports=none',
  ];
  if (input.mode === 'noop') args.push('--noop');
  if (input.hasModules) args.push(`--modulepath=${join(input.releaseDir, puppet.modulepath)}`);
  if (puppet.hiera_config) args.push(`--hiera_config=${join(input.releaseDir, puppet.hiera_config)}`);
  args.push(...puppet.extra_args, join(input.releaseDir, puppet.manifest));
  return args;
}
