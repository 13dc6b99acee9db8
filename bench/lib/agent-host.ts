/**
 * One simulated server: a config file, state dir, stage dir and a sandbox (the only directory the
 * fixture manifests touch, given to Puppet as the `sandbox` fact) under one temp dir.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { timed, type TimedRun } from './timed.js';
import { AGENT_BIN } from './paths.js';
import { CONFIG_SNAPSHOT_ENV } from '../../agent/config/path.js';
import { statePaths } from '../../agent/run/paths.js';

export interface BenchHost {
  dir: string;
  configPath: string;
  stateDir: string;
  sandbox: string;
  env: Record<string, string>;
  /** `agent ARGS --config <this host's config>`, timed; `extraEnv` on top of the host's environment. */
  run(args: string[], extraEnv?: Record<string, string>): Promise<TimedRun>;
  remove(): void;
}

export function createBenchHost(config: Record<string, unknown>, env: Record<string, string>): BenchHost {
  const dir = mkdtempSync(join(tmpdir(), 'bench-host-'));
  const stateDir = join(dir, 'state');
  const sandbox = join(dir, 'sandbox');
  mkdirSync(sandbox);
  const configPath = join(dir, 'agent.yaml');
  writeFileSync(configPath, stringify({ state_dir: stateDir, stage_dir: join(dir, 'puppetstage'), metrics: { textfile: '' }, puppet: { timeout: '2m' }, ...config }));
  const hostEnv = { ...env, FACTER_sandbox: sandbox };
  return {
    dir,
    configPath,
    stateDir,
    sandbox,
    env: hostEnv,
    run: (args, extraEnv = {}) => timed(process.execPath, [AGENT_BIN, ...args, '--config', configPath], { env: { ...hostEnv, ...extraEnv } }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What the daemon adds to its runs' environment (commands/daemon.ts): where they keep the config snapshot. */
export function daemonChildEnv(host: Pick<BenchHost, 'stateDir'>): Record<string, string> {
  return { [CONFIG_SNAPSHOT_ENV]: statePaths({ state_dir: host.stateDir, stage_dir: '' }).configSnapshotFile };
}
