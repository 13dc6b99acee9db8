import { readFile, rm, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deps } from '../deps.js';
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
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** This run's report, or null when Puppet wrote none (a compile error writes none). */
  reportYaml: string | null;
  /** Puppet's `Error:` lines, minus Facter's noise. */
  errorLines: string[];
  puppetVersion: string | null;
}

/** Time Puppet gets between TERM and KILL when its deadline passes. */
const PUPPET_KILL_GRACE_MS = 10_000;

export async function runPuppet(deps: Pick<Deps, 'exec' | 'log'>, input: PuppetRunInput): Promise<PuppetRun> {
  const files = puppetFiles(input.paths);
  await mkdir(input.paths.puppetDir, { recursive: true });
  // a compile error writes no report: a stale one must never be read as this run's
  await rm(files.lastRunReport, { force: true });
  const hasModules = await isDirectory(join(input.releaseDir, input.config.puppet.modulepath));
  const args = puppetArgs({ ...input, hasModules });
  deps.log.debug({ bin: input.config.puppet.bin, args }, 'starting puppet apply');
  const result = await deps.exec({
    file: input.config.puppet.bin,
    args,
    cwd: input.releaseDir,
    env: Object.fromEntries(Object.entries(input.facts).map(([name, value]) => [`FACTER_${name}`, value])),
    timeoutMs: input.config.puppet.timeout,
    killGraceMs: PUPPET_KILL_GRACE_MS,
    signal: input.signal,
    onSpawn: input.onSpawn,
  });
  const reportYaml = await readFile(files.lastRunReport, 'utf8').catch(() => null);
  const errorLines = puppetErrorLines(`${result.stdout}\n${result.stderr}`);
  if (result.spawnError) errorLines.unshift(`could not start ${input.config.puppet.bin}: ${result.spawnError}`);
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    reportYaml: result.timedOut ? null : reportYaml,
    errorLines,
    puppetVersion: null,
  };
}

/** `Error:` lines, without ANSI colours and without Facter's harmless container noise (FIELD-NOTES). */
export function puppetErrorLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('Error:') && !line.startsWith('Error: Facter:'));
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
