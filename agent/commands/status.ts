import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { configFor } from './config-for.js';
import { statePaths } from '../run/paths.js';
import { readStatusFile, type RunSummary, type StatusFile } from '../run/status-file.js';
import { readLockHolder, type LockHolder } from '../lock/run-lock.js';
import { spoolStats } from '../report/spool.js';
import { formatSeconds } from '../run/progress.js';
import { describeExit, formatElapsed } from '../report/words.js';
import { readDisabled } from '../run/disabled.js';
import { readJsonFile } from '../adapters/files.js';
import { isAgentError } from '../errors.js';
import { isSameProcessAlive } from '../adapters/proc.js';
import type { DaemonFile } from './daemon.js';
import type { DisabledState } from '../report/types.js';

export interface StatusView extends StatusFile {
  daemon: { pid: number; started_at: string } | null;
  lock: { pid: number; started_at: string; trigger: string } | null;
  disabled: DisabledState | null;
  spool: { count: number; oldest_at: string | null };
}

/** `agent status`: status.json plus the live parts (lock, spool). Exits 0 whatever the last run did. */
export async function statusCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  let config;
  try {
    ({ config } = configFor(command.values, io.env));
  } catch (error) {
    if (!isAgentError(error, 'no_config')) throw error;
    // "not configured" is this host's status, not a failure of the command (SPEC §2: status exits 0)
    io.stderr.write(`agent: ${error.message}\n`);
    io.stdout.write(command.values.json ? `${JSON.stringify({ schema: 'agent.status/v1', configured: false })}\n` : 'not configured: no config file (see above)\n');
    return 0;
  }
  const paths = statePaths(config);
  const saved = await readStatusFile(paths.statusFile);
  const holder = readLockHolder(paths.lockFile);
  const daemonFile = await readJsonFile<DaemonFile>(paths.daemonFile);
  const daemon = daemonFile && isSameProcessAlive(daemonFile.pid, daemonFile.start_time) ? daemonFile : null;
  const view: StatusView = {
    schema: 'agent.status/v1',
    last_run: saved?.last_run ?? null,
    last_apply: saved?.last_apply ?? null,
    next_run_at: daemon?.next_run_at ?? null,
    daemon: daemon ? { pid: daemon.pid, started_at: daemon.started_at } : null,
    lock: holder ? lockView(holder) : null,
    disabled: await readDisabled(paths.disabledFile, new Date()),
    spool: await spoolStats(paths),
  };
  io.stdout.write(command.values.json ? `${JSON.stringify(view, null, 2)}\n` : formatStatus(view, new Date()));
  return 0;
}

function lockView(holder: LockHolder): StatusView['lock'] {
  return { pid: holder.pid, started_at: holder.started_at, trigger: holder.trigger };
}

export function formatStatus(view: StatusView, now: Date): string {
  const lines = [
    `last run:    ${describeRun(view.last_run, now)}`,
    `last apply:  ${view.last_apply && view.last_apply.run_id === view.last_run?.run_id ? 'the last run (it applied)' : describeRun(view.last_apply, now)}`,
    `next run:    ${view.next_run_at ?? (view.daemon ? 'not scheduled' : 'not scheduled (no daemon)')}`,
    `daemon:      ${view.daemon ? `pid ${view.daemon.pid}, up ${formatElapsed(now.getTime() - Date.parse(view.daemon.started_at))} (since ${view.daemon.started_at})` : 'not running'}`,
    `run lock:    ${view.lock ? `held by pid ${view.lock.pid} (${view.lock.trigger}) since ${view.lock.started_at}` : 'free'}`,
    `disabled:    ${view.disabled ? `yes, by ${view.disabled.by} since ${view.disabled.at}${view.disabled.until ? ` until ${view.disabled.until}` : ''}: ${view.disabled.reason}` : 'no'}`,
    `spool:       ${view.spool.count} report${view.spool.count === 1 ? '' : 's'} waiting${view.spool.oldest_at ? `, oldest ${view.spool.oldest_at}` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}

function describeRun(run: RunSummary | null, now: Date): string {
  if (!run) return 'never';
  const ago = formatElapsed(now.getTime() - Date.parse(run.finished_at));
  const { drift } = run;
  const release = run.release_id ? run.release_id.slice(0, 12) : '(none)';
  const puppet = run.apply.status === 'skipped' ? 'Puppet not run (nothing new, no drift check due)' : `Puppet ${run.apply.status}`;
  return (
    `${run.result} (${describeExit(run.exit_code, run.mode)}), ${ago} ago, ${run.trigger}${run.mode === 'noop' ? ', --noop' : ''}; ` +
    `${puppet}, took ${formatSeconds(run.duration_ms)}; release ${release}, source ${run.source_status}; ` +
    `${drift.out_of_sync} out of sync (${drift.corrective} had drifted, ${drift.intentional} new), ${drift.failed} failed, ${drift.flapping} flapping`
  );
}
