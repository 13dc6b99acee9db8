/**
 * argv for `puppet apply` (pure). Every flag below was checked by real runs on Puppet 7.23
 * (tests/integration/puppet-apply.test.ts keeps checking the ones that matter):
 * - --detailed-exitcodes: 0 unchanged, 2 changed, 4 failures, 6 both; 1 = could not compile or run.
 *   Without it a failed resource exits 0.
 * - --confdir/--codedir/--vardir/--publicdir/--rundir/--logdir under state_dir/puppet (SPEC §1.5): the
 *   host's own /etc/puppet, /var/cache/puppet, /var/lib/puppet are neither read nor written.
 * - --lastrunreport/--lastrunfile: where this run's report and summary land (puppet-run reads the report).
 * - --reports=none: no per-run copy under vardir/reports/<host>/ (those pile up without bound);
 *   the --lastrunreport file is still written.
 * - --color=false: plain `Error:` lines to read back.
 * - --modulepath with the configured directories the release has (none: no flag); --hiera_config only when configured: both
 *   relative to the release, so a new release brings its own modules and data.
 * The `--flag=value` form keeps a value that starts with `-` from being read as a flag.
 */
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
  /** The configured modulepath directories the release has, in order (a pure builder cannot look). */
  modules: readonly string[];
}

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
  // noop: Puppet exits 0 even when it finds drift; the agent reads the report instead (FIELD-NOTES)
  if (input.mode === 'noop') args.push('--noop');
  // Puppet's modulepath is a colon list, searched in order
  if (input.modules.length > 0) args.push(`--modulepath=${input.modules.map((dir) => join(input.releaseDir, dir)).join(':')}`);
  if (puppet.hiera_config) args.push(`--hiera_config=${join(input.releaseDir, puppet.hiera_config)}`);
  // extra_args after the agent's own flags, so an operator's setting wins; the manifest (file or directory) last
  args.push(...puppet.extra_args, join(input.releaseDir, puppet.manifest));
  return args;
}
