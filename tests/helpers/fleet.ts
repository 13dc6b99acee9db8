import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { AGENT_BIN, createAgentHost, type AgentHost, type AgentRun } from './agent-host.js';
import { layFixtureTree, type FixtureTree } from './fixture-trees.js';
import { forEachConcurrently } from '../../agent/concurrency.js';
import type { Report } from '../../agent/report/types.js';

/**
 * Several agent hosts on one machine standing in for a fleet (DEVELOPERS.md): each its own
 * instance_id, state_dir, stage_dir and sandbox, all on one S3 source and one report bucket of a
 * loopback S3 server, plus a publisher: the signing key, a tree to publish, and its own config.
 */
export interface TestFleet {
  hosts: FleetHost[];
  publisher: { configPath: string; key: string; tree: string; target: string; run(args: string[], env?: Record<string, string>): Promise<AgentRun> };
  /** `run-now --json` on every host (at most `parallel` at once), as the daemon runs it by default. */
  runAll(args?: string[], options?: { parallel?: number; env?: (host: FleetHost) => Record<string, string> }): Promise<Map<string, Report>>;
  remove(): void;
}

export interface FleetHost {
  id: string;
  roles: string[];
  host: AgentHost;
  runNow(args?: string[], env?: Record<string, string>): Promise<{ exitCode: number; report: Report; stderr: string }>;
}

export interface FleetOptions {
  size: number;
  s3: { endpoint: string; env: Record<string, string> };
  sourceEndpoint?: string;
  /** The fixture tree the publisher starts with. */
  tree: FixtureTree;
  /** Roles of host i (default none). */
  roles?: (index: number) => string[];
  /** drift_check_every of the hosts and of the publisher (the controller's silent-host rule). */
  driftCheckEvery?: string;
}

export const SOURCE_BUCKET = 'releases';
export const SOURCE_PREFIX = 'puppet';

export async function createFleet(options: FleetOptions): Promise<TestFleet> {
  const work = mkdtempSync(join(tmpdir(), 'agent-fleet-'));
  const tree = layFixtureTree(join(work, 'tree'), options.tree);
  const key = join(work, 'release');
  await execa(process.execPath, [AGENT_BIN, 'keygen', '--out', key]);
  const source = { type: 's3', bucket: SOURCE_BUCKET, prefix: SOURCE_PREFIX, endpoint: options.sourceEndpoint ?? options.s3.endpoint, force_path_style: true, timeout: '30s' };
  const report = { bucket: 'fleet-reports', endpoint: options.s3.endpoint, force_path_style: true };
  const driftCheckEvery = options.driftCheckEvery ?? '30m';
  const configPath = join(work, 'publisher.yaml');
  writeFileSync(configPath, stringify({ instance_id: 'publisher', source, report, drift_check_every: driftCheckEvery, splay: '0s', verify: { public_keys: [`${key}.pub`] } }));

  const hosts: FleetHost[] = Array.from({ length: options.size }, (_, index) => {
    const id = `i-0f1ee7${index.toString(16).padStart(11, '0')}`;
    const roles = options.roles?.(index) ?? [];
    const host = createAgentHost(
      { instance_id: id, roles, source, report, drift_check_every: driftCheckEvery, splay: '0s', verify: { public_keys: [`${key}.pub`] } },
      options.s3.env,
    );
    const runNow = async (args: string[] = [], env: Record<string, string> = {}) => {
      const result = await host.run(['run-now', '--json', ...args], { env });
      try {
        return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
      } catch {
        throw new Error(`${id}: run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
      }
    };
    return { id, roles, host, runNow };
  });

  const fleet: TestFleet = {
    hosts,
    publisher: {
      configPath,
      key: `${key}.key`,
      tree,
      target: `s3://${SOURCE_BUCKET}/${SOURCE_PREFIX}`,
      run: async (args, env = {}) => {
        const result = await execa(process.execPath, [AGENT_BIN, ...args, '--config', configPath], { reject: false, env: { ...options.s3.env, ...env }, timeout: 120_000 });
        return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
      },
    },
    async runAll(args = ['--trigger', 'schedule'], runOptions = {}) {
      const reports = new Map<string, Report>();
      await forEachConcurrently(hosts, runOptions.parallel ?? 4, async (member) => {
        reports.set(member.id, (await member.runNow(args, runOptions.env?.(member) ?? {})).report);
      });
      return reports;
    },
    remove() {
      for (const member of hosts) member.host.remove();
      rmSync(work, { recursive: true, force: true });
    },
  };
  return fleet;
}

/** Register every host (what the daemon does at start), so the controller sees the fleet. */
export async function registerAll(fleet: TestFleet): Promise<void> {
  await forEachConcurrently(fleet.hosts, 4, async (member) => {
    const result = await member.host.run(['register']);
    if (result.exitCode !== 0) throw new Error(`${member.id}: register exited ${result.exitCode}: ${result.stderr}`);
  });
}
