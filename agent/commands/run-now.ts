import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { commandLog } from './io.js';
import { CONFIG_SNAPSHOT_ENV, existingConfigPath } from '../config/path.js';
import { loadConfigThroughSnapshot } from '../config/snapshot.js';
import type { Config } from '../config/schema.js';
import { lockWaitMs } from './wait-flag.js';
import { statePaths } from '../run/paths.js';
import { resolveIdentity } from '../run/identity.js';
import { runOnce } from '../run/run-once.js';
import { streamProgress, formatSeconds } from '../run/progress.js';
import { acquireRunLock } from '../lock/run-lock.js';
import { exec } from '../adapters/exec.js';
import { isAgentError } from '../errors.js';
import type { Report, Trigger } from '../report/types.js';
import { shortId } from '../run/source-stage.js';
import { describeExit } from '../report/words.js';
import { describeDisabled, readDisabled } from '../run/disabled.js';
import { EXIT_DISABLED, EXIT_LOCKED } from '../exit-codes.js';
import { readStatusFile } from '../run/status-file.js';
import { applyReason } from '../schedule/apply-policy.js';

/** Triggers an operator asked for: they always apply and are refused outright while disabled. */
const REQUESTED: readonly Trigger[] = ['run-now', 'fleet', 'signal'];

/** `agent run-now`: one run in this process, progress on stderr, the run's exit code (SPEC §2). */
export async function runNowCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { values } = command;
  if (typeof values.plan === 'string') return (await import('./plan-run-now.js')).planRunNowCommand(command, io); // SPEC §10
  const config = await configForRun(values, io.env);
  const json = values.json === true;
  const log = await commandLog(io, config, { toStderr: json });
  const progress = streamProgress((text) => io.stderr.write(text));
  const paths = statePaths(config);
  const trigger = (values.trigger as Trigger | undefined) ?? 'run-now';
  const waitMs = lockWaitMs(values);

  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const disabled = values.force ? null : await readDisabled(paths.disabledFile, new Date());
  if (disabled && REQUESTED.includes(trigger)) {
    io.stderr.write(`agent: ${describeDisabled(disabled)}; nothing was run (run-now --force overrides)\n`);
    return EXIT_DISABLED;
  }
  let lock;
  try {
    lock = await acquireRunLock(paths.lockFile, log, { trigger, waitMs, signal: abort.signal });
  } catch (error) {
    if (!isAgentError(error, 'lock_busy')) throw error;
    io.stderr.write(`agent: ${error.message}${waitMs ? ` (waited ${formatSeconds(waitMs)})` : ''}\n`);
    return EXIT_LOCKED;
  }
  try {
    const identity = await resolveIdentity(config, log);
    const status = await readStatusFile(paths.statusFile);
    const lastReportAt = status?.last_report_at ?? status?.last_apply?.finished_at;
    const report = await runOnce(
      { exec, log, now: () => new Date() },
      { config, paths, identity, lock, progress, signal: abort.signal },
      {
        trigger,
        mode: values.noop ? 'noop' : config.puppet.mode,
        noSync: values['no-sync'] === true,
        allowDowngrade: values['allow-downgrade'] === true,
        retryFailed: trigger === 'run-now',
        lastApply: status?.last_apply ?? null,
        disabled,
        shouldApply: (poll) => {
          const reason = applyReason({
            trigger,
            ...poll,
            lastExitCode: status?.last_run?.exit_code ?? null,
            lastApplyAt: lastReportAt ? new Date(lastReportAt) : null,
            now: new Date(),
            driftCheckEveryMs: config.drift_check_every,
          });
          log.info({ apply_reason: reason }, reason === 'skip' ? 'nothing new and no apply due: Puppet skipped' : 'applying');
          return reason !== 'skip';
        },
      },
    );
    io.stderr.write(`${summaryLine(report)}\n`);
    if (json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.exit_code;
  } finally {
    lock.release();
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}


/** The closing line an operator reads first: what happened, what the exit code means, in plain words. */
export function summaryLine(report: Report): string {
  const { drift } = report;
  const parts =
    report.mode === 'noop'
      ? [`${drift.out_of_sync} would change (${drift.corrective} had drifted since the last run, ${drift.intentional} new in the release)`]
      : [`${drift.intentional} changed (new in the release)`, `${drift.corrective} put back after drift`];
  parts.push(`${drift.failed} failed`);
  if (drift.flapping > 0) parts.push(`${drift.flapping} flapping (put back again and again: something else on the host fights the manifest)`);
  const release = report.apply.release_id ?? report.source.release_id;
  const problems = [report.source.error, report.apply.error].filter(Boolean).map((text) => String(text).split('\n')[0]);
  if (report.apply.rolled_back_from) {
    const why = report.apply.rollback?.error.split('\n')[0] ?? '';
    problems.unshift(`release ${shortId(report.apply.rolled_back_from)} failed and was rolled back to ${shortId(report.apply.release_id)}: ${why}`);
  }
  return [
    `agent: result   ${report.result} (${describeExit(report.exit_code, report.mode)}) in ${formatSeconds(report.duration_ms)}: ${parts.join(', ')}; release ${shortId(release)}; run ${report.run_id}`,
    ...problems.map((problem) => `agent: error    ${problem}`),
  ].join('\n');
}

/** The daemon's runs read the config through its snapshot (config/snapshot.ts); any other run loads it afresh. */
async function configForRun(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): Promise<Readonly<Config>> {
  const snapshotFile = env[CONFIG_SNAPSHOT_ENV];
  if (!snapshotFile) return (await import('./config-for.js')).configFor(values, env).config;
  return loadConfigThroughSnapshot(existingConfigPath(values, env), snapshotFile);
}
