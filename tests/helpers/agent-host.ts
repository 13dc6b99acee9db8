import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { layFixtureTree } from './fixture-trees.js';

/** The built binary, as an operator runs it (`npm test` builds before jest). */
export const AGENT_BIN = new URL('../../dist/agent/main.js', import.meta.url).pathname;

export interface AgentRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface AgentHost {
  dir: string;
  configPath: string;
  stateDir: string;
  stageDir: string;
  /** The only directory the fixture manifests may touch (passed to Puppet as the `sandbox` fact). */
  sandbox: string;
  env: Record<string, string>;
  run(args: string[], options?: { env?: Record<string, string> }): Promise<AgentRun>;
  /** Merge `overrides` into the host's config file (later calls build on earlier ones). */
  writeConfig(overrides: Record<string, unknown>): void;
  remove(): void;
}

/**
 * A fake server for e2e tests: its own config, state dir, stage dir and sandbox under one temp dir.
 * `config` is merged over a base that keeps everything inside that dir.
 */
export function createAgentHost(config: Record<string, unknown>, env: Record<string, string> = {}): AgentHost {
  const dir = mkdtempSync(join(tmpdir(), 'agent-host-'));
  const stateDir = join(dir, 'state');
  const stageDir = join(dir, 'puppetstage');
  const sandbox = join(dir, 'sandbox');
  mkdirSync(sandbox);
  const configPath = join(dir, 'agent.yaml');
  const hostEnv = { ...env, FACTER_sandbox: sandbox };
  let current: Record<string, unknown> = {
    instance_id: 'i-0e2e000000000001',
    state_dir: stateDir,
    stage_dir: stageDir,
    metrics: { textfile: '' },
    log: { level: 'info' },
    puppet: { timeout: '2m' },
  };
  const host: AgentHost = {
    dir,
    configPath,
    stateDir,
    stageDir,
    sandbox,
    env: hostEnv,
    writeConfig(overrides) {
      current = merge(current, overrides);
      writeFileSync(configPath, stringify(current));
    },
    async run(args, options = {}) {
      const result = await execa(process.execPath, [AGENT_BIN, ...args, '--config', configPath], {
        env: { ...hostEnv, ...options.env },
        reject: false,
        timeout: 120_000,
      });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  host.writeConfig(config);
  return host;
}

function merge(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const existing = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && existing && typeof existing === 'object' && !Array.isArray(existing)
        ? merge(existing as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/**
 * A host whose manifest source is a local-path copy of the sandbox fixture tree (`dist`, editable by the
 * test), reporting to the given loopback S3 server. remove() cleans up both.
 */
export function createLocalSourceHost(
  s3: { endpoint: string; env: Record<string, string> },
  config: Record<string, unknown> = {},
): { host: AgentHost; dist: string; remove(): void } {
  const dist = layFixtureTree(mkdtempSync(join(tmpdir(), 'agent-dist-')), 'sandbox');
  const host = createAgentHost({ source: { url: dist }, report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true }, ...config }, s3.env);
  return {
    host,
    dist,
    remove() {
      host.remove();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}
