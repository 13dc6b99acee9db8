import { existsSync } from 'node:fs';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { commandLog, LOG_FORMAT_ENV } from './io.js';
import { CONFIG_SNAPSHOT_ENV, missingConfigError, resolveConfigPath } from '../config/path.js';
import type { Config } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { statePaths, type StatePaths } from '../run/paths.js';
import { startDaemonLoop, type RunTrigger } from '../schedule/daemon-loop.js';
import { spawnAgent, captureAgent } from '../adapters/spawn-agent.js';
import { notifySystemd, watchdogIntervalMs } from '../adapters/systemd-notify.js';
import { processStartTime } from '../adapters/proc.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { closeSshMasters } from '../adapters/ssh-master.js';
import { describeError } from '../errors.js';
import { unlink } from 'node:fs/promises';
import type { Log } from '../adapters/log.js';

/** How long deregistration may take on the way out; systemd's TimeoutStopSec must leave room for it. */
const DEREGISTER_TIMEOUT_MS = 20_000;

export interface DaemonFile {
  pid: number;
  start_time: string | null;
  started_at: string;
  next_run_at: string | null;
}

/**
 * Node flags the installed `agent` wrapper (ami/install.sh) starts the daemon with, and the bench
 * measures it with. The daemon only supervises (a timer, one child per run), yet Node's own module
 * loading makes a function hot enough at start-up for V8's optimizing compiler, whose code then sits
 * in the daemon's memory (about 4 MB here, bench 3). Lite mode runs the daemon interpreted; its runs
 * are children started without these flags, so they keep the full JIT. --no-expose-wasm: lite mode
 * has no WebAssembly, and says so on stderr unless asked not to.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--lite-mode', '--no-expose-wasm'];

/** EX_CONFIG (sysexits.h): the unit's RestartPreventExitStatus, so a bad config does not crash-loop. */
export const EXIT_BAD_CONFIG = 78;

/**
 * `agent daemon`: a small supervisor. It registers (in a child), then starts one child process per
 * run: `agent run-now --trigger schedule|boot|signal --no-wait`. It never loads the S3 SDK or the
 * Puppet report code itself, so it idles near bare Node's memory. Exits 0 after a clean stop.
 */
export async function daemonCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const flag = typeof command.values.config === 'string' ? command.values.config : undefined;
  const path = resolveConfigPath(flag, io.env);
  if (!existsSync(path)) {
    io.stderr.write(`agent daemon: not starting: ${missingConfigError(flag, io.env).message}\n`);
    return EXIT_BAD_CONFIG;
  }
  let config: Readonly<Config>;
  try {
    config = await loadConfigInChild(path, io.env);
  } catch (error) {
    io.stderr.write(`agent daemon: invalid configuration, not starting:\n${describeError(error)}\n`);
    return EXIT_BAD_CONFIG;
  }
  const log = await commandLog(io, config, { service: true });
  const paths = statePaths(config);
  const startedAt = new Date().toISOString();
  const childArgs = (args: string[]) => [...args, '--config', path];
  // the runs keep the config they validated for the next one (config/snapshot.ts)
  const childEnv = { ...io.env, [LOG_FORMAT_ENV]: 'json', [CONFIG_SNAPSHOT_ENV]: paths.configSnapshotFile };
  const runChild = (args: string[]) => spawnAgent(childArgs(args), childEnv).exited;

  log.info({ pid: process.pid, config: path }, 'agent daemon starting');
  await closeMasters(paths, log); // a killed daemon's connections: its runs' successor starts afresh
  const registered = (await runChild(['register'])) === 0;
  if (!registered) log.error({}, 'registration failed: retrying before the next run');
  let needsRegistration = !registered;
  let instanceId = await instanceIdOf(config, paths);

  const writeDaemonFile = (nextRunAt: Date | null) => {
    const file: DaemonFile = { pid: process.pid, start_time: processStartTime(process.pid), started_at: startedAt, next_run_at: nextRunAt?.toISOString() ?? null };
    void writeFileAtomic(paths.daemonFile, JSON.stringify(file)).catch((error) => log.warn({ err: describeError(error) }, 'could not write daemon.json'));
  };
  const loop = startDaemonLoop(
    {
      log,
      startRun: (trigger: RunTrigger) => {
        if (needsRegistration) void runChild(['register']).then((code) => (needsRegistration = code !== 0));
        return spawnAgent(childArgs(['run-now', '--trigger', trigger, '--no-wait']), childEnv);
      },
      onNextRunChanged: writeDaemonFile,
    },
    config,
    instanceId,
  );
  if (config.run_at_boot) loop.runNow('boot');

  notifySystemd('READY=1', io.env);
  const watchdogMs = watchdogIntervalMs(io.env);
  const watchdog = watchdogMs ? setInterval(() => notifySystemd('WATCHDOG=1', io.env), watchdogMs) : undefined;

  const reload = async () => {
    try {
      config = await loadConfigInChild(path, io.env);
      instanceId = await instanceIdOf(config, paths);
      loop.reconfigure(config, instanceId);
      log.info({ config: path }, 'configuration reloaded');
    } catch (error) {
      log.error({ config: path, err: describeError(error) }, 'new configuration rejected: keeping the running one');
    }
  };
  process.on('SIGHUP', () => void reload());
  process.on('SIGUSR1', () => loop.runNow('signal'));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ signal }, 'stopping');
  notifySystemd('STOPPING=1', io.env);
  clearInterval(watchdog);
  await loop.stop(config.stop_grace);
  await deregister(runChild, log);
  await closeMasters(paths, log);
  await unlink(paths.daemonFile).catch(() => undefined);
  log.info({}, 'agent daemon stopped');
  return 0;
}

/**
 * The daemon validates its config in a child (`agent config check --json`): the schema library is the
 * largest module the agent has, and a daemon that loaded it would carry it for its whole life.
 */
async function loadConfigInChild(path: string, env: NodeJS.ProcessEnv): Promise<Readonly<Config>> {
  const checked = await captureAgent(['config', 'check', '--json', '--config', path], env);
  if (checked.exitCode !== 0) {
    throw new AgentError('config', checked.stderr.replace(/^agent: invalid configuration:\n/, '').trim() || `config check exited ${String(checked.exitCode)}`);
  }
  return JSON.parse(checked.stdout) as Config;
}

/** The id the splay offset hashes: the literal one, or what the registration child resolved. */
async function instanceIdOf(config: Readonly<Config>, paths: StatePaths): Promise<string> {
  if (config.instance_id !== 'auto') return config.instance_id;
  return (await readJsonFile<{ id: string }>(paths.identityFile))?.id ?? 'unknown';
}

/** The SSH connections the daemon's runs kept open for the next tick (rsync source): the daemon owns them. */
async function closeMasters(paths: StatePaths, log: Log): Promise<void> {
  const closed = await closeSshMasters(paths.sshDir).catch(() => 0);
  if (closed > 0) log.info({ closed, dir: paths.sshDir }, 'closed the SSH connections kept between runs');
}

async function deregister(runChild: (args: string[]) => Promise<number | null>, log: Log): Promise<void> {
  const outcome = await Promise.race([runChild(['deregister']), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DEREGISTER_TIMEOUT_MS).unref())]);
  if (outcome !== 0) log.error({ outcome }, 'deregistration failed: the registry entry stays until `agent fleet prune`');
}
