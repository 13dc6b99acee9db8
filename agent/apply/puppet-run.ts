/**
 * One `puppet apply` (SPEC §1.5): the adapter around puppetArgs(). It never throws for Puppet's sake:
 * a missing binary, a compile error, a timeout all come back as data for the apply stage to judge.
 */
import { readFile, rm, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deps } from '../deps.js';
import type { ExecResult } from '../adapters/exec.js';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { Mode } from '../report/types.js';
import { puppetArgs, puppetFiles } from './puppet-args.js';

export interface PuppetRunInput {
  config: Pick<Config, 'puppet'>;
  paths: Pick<StatePaths, 'puppetDir'>;
  releaseDir: string;
  mode: Mode;
  /** Passed as FACTER_<name>: Puppet sees them as facts (SPEC §3 agent_* facts). */
  facts: Record<string, string>;
  signal?: AbortSignal;
  /** Puppet's pid = its process group, for the run lock to record. */
  onSpawn?: (pgid: number) => void;
}

export interface PuppetRun {
  /** Puppet's detailed exit code (0/2/4/6, 1 = could not run); null when killed or never started. */
  exitCode: number | null;
  timedOut: boolean;
  /** Stopped through `signal` (the daemon is shutting down). */
  aborted: boolean;
  durationMs: number;
  /** This run's report, or null when Puppet wrote none (compile error, timeout, abort, no binary). */
  reportYaml: string | null;
  /** Puppet's `Error:` lines, minus Facter's noise; a start failure comes first. */
  errorLines: string[];
  /** From the report; null without one (`puppet --version` would cost another Ruby start, 1-3 s here). */
  puppetVersion: string | null;
}

/** Time Puppet gets between TERM and KILL when its deadline passes: enough to finish writing state files. */
const PUPPET_KILL_GRACE_MS = 10_000;

export async function runPuppet(deps: Pick<Deps, 'exec' | 'log'>, input: PuppetRunInput): Promise<PuppetRun> {
  const files = puppetFiles(input.paths);
  await mkdir(input.paths.puppetDir, { recursive: true, mode: 0o750 });
  // a compile error writes no report: a stale one must never be read as this run's (FIELD-NOTES)
  await rm(files.lastRunReport, { force: true });
  const args = puppetArgs({ ...input, modules: await presentModuleDirs(input.releaseDir, input.config.puppet.modulepath) });
  deps.log.debug({ bin: input.config.puppet.bin, args }, 'starting puppet apply');
  // exec's deadline also ends what Puppet started in sessions of its own (exec resources: setsid)
  const result: ExecResult = await deps.exec({
    file: input.config.puppet.bin,
    args,
    cwd: input.releaseDir,
    env: factEnv(input.facts),
    timeoutMs: input.config.puppet.timeout,
    killGraceMs: PUPPET_KILL_GRACE_MS,
    signal: input.signal,
    onSpawn: input.onSpawn,
  });
  // a Puppet killed mid-run may have left a partial report behind: not this run's verdict
  const stopped = result.timedOut || result.aborted;
  const reportYaml = stopped ? null : await readFile(files.lastRunReport, 'utf8').catch(() => null);
  const errorLines = puppetErrorLines(`${result.stdout}\n${result.stderr}`);
  if (result.spawnError) errorLines.unshift(`could not start ${input.config.puppet.bin}: ${result.spawnError}`);
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    aborted: result.aborted,
    durationMs: result.durationMs,
    reportYaml,
    errorLines,
    puppetVersion: reportYaml === null ? null : versionIn(reportYaml),
  };
}

/** SPEC §3: facts reach Puppet as FACTER_<name> environment variables. */
export function factEnv(facts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(facts).map(([name, value]) => [`FACTER_${name}`, value]));
}

/**
 * `Error:` lines, without ANSI colours, repeats, or Facter's complaints: in containers Facter prints
 * `Error: Facter: Permission denied ... /proc/1/environ` while the run is fine (FIELD-NOTES).
 */
export function puppetErrorLines(output: string): string[] {
  const lines = output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('Error:') && !line.includes('Facter:'));
  return [...new Set(lines)];
}

/** The report's `puppet_version`, read without parsing the whole report (the caller parses it anyway). */
export function versionIn(reportYaml: string): string | null {
  return /^puppet_version: ['"]?([^'"\s]+)['"]?\s*$/m.exec(reportYaml)?.[1] ?? null;
}

/** The modulepath directories `releaseDir` has, in order: Puppet is given those only. */
export async function presentModuleDirs(releaseDir: string, modulepath: readonly string[]): Promise<string[]> {
  const present: string[] = [];
  for (const dir of modulepath) if (await isDirectory(join(releaseDir, dir))) present.push(dir);
  return present;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
