/**
 * The baseline: the seed's cron script, `rsync -az --delete SRC/ STAGE/ && puppet apply ...`, with
 * Puppet flags that work on Puppet 7 (the seed's `import "classes/*"` does not: FIELD-NOTES). The ssh
 * options and Puppet flags are the agent's own (sshCommand, puppetArgs), so both sides pay for the same
 * ssh handshake and the same Puppet work; only what the agent adds around them differs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sshCommand } from '../../agent/source/rsync-args.js';
import { parseStats } from '../../agent/source/rsync-args.js';
import { puppetArgs } from '../../agent/apply/puppet-args.js';
import { presentModuleDirs } from '../../agent/apply/puppet-run.js';
import { parseConfig } from '../../agent/config/load.js';
import { timed, expectExit } from './timed.js';
import type { BenchSource } from './rig.js';

export interface SeedScriptPaths {
  stageDir: string;
  puppetDir: string;
}

/**
 * argv of the script's two commands (pure). --stats is added to read the bytes; it costs nothing.
 * `modules`: the tree's module directories, given to Puppet as a cron script would (--modulepath).
 */
export function seedScriptArgv(source: Pick<BenchSource, 'url' | 'port' | 'clientKey' | 'knownHosts'>, paths: SeedScriptPaths, modules: readonly string[] = []): { rsync: string[]; puppet: string[] } {
  const ssh = sshCommand({ port: source.port, ssh_key: source.clientKey, known_hosts: source.knownHosts });
  return {
    rsync: ['-az', '--delete', '--stats', '-e', ssh, source.url, `${paths.stageDir}/`],
    puppet: puppetArgs({ config: { puppet: DEFAULT_PUPPET }, paths: { puppetDir: paths.puppetDir }, releaseDir: paths.stageDir, mode: 'enforce', modules }),
  };
}

/** The agent's default puppet settings, from its own schema. */
const DEFAULT_PUPPET = parseConfig('source: {url: /srv/dist}\nreport: {bucket: b}\n', 'bench.yaml', () => true).puppet;

export interface SeedScriptRun {
  ms: number;
  rsyncMs: number;
  puppetMs: number;
  bytesReceived: number;
  puppetExit: number;
}

/** One run of the script in `dir` (its stage and Puppet state live there); env carries the sandbox fact. */
export async function runSeedScript(source: BenchSource, dir: string, env: Record<string, string>): Promise<SeedScriptRun> {
  const paths = { stageDir: join(dir, 'puppetstage'), puppetDir: join(dir, 'seed-puppet') };
  mkdirSync(paths.stageDir, { recursive: true });
  // the module directories of the served tree, found as the agent finds them in a release
  const argv = seedScriptArgv(source, paths, await presentModuleDirs(source.distDir, DEFAULT_PUPPET.modulepath));
  const rsync = expectExit(await timed('rsync', argv.rsync, { env: { ...env, LC_ALL: 'C' } }), [0], 'seed script rsync');
  // Puppet's detailed exit codes: 0 unchanged, 2 changed; anything else is a broken baseline
  const puppet = expectExit(await timed('puppet', argv.puppet, { env }), [0, 2], 'seed script puppet apply');
  return { ms: rsync.ms + puppet.ms, rsyncMs: rsync.ms, puppetMs: puppet.ms, bytesReceived: parseStats(rsync.stdout).bytesTransferred, puppetExit: puppet.exitCode };
}
