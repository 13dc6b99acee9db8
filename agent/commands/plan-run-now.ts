import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import type { Trigger } from '../report/types.js';
import { commandLog } from './io.js';
import { configFor } from './config-for.js';
import { lockWaitMs } from './wait-flag.js';
import { statePaths } from '../run/paths.js';
import { resolveIdentity } from '../run/identity.js';
import { streamProgress, formatSeconds } from '../run/progress.js';
import { acquireRunLock } from '../lock/run-lock.js';
import { exec } from '../adapters/exec.js';
import { createS3Client } from '../adapters/s3.js';
import { AgentError, isAgentError } from '../errors.js';
import { fetchPlanById } from '../plan/host-fetch.js';
import { runPlan } from '../plan/host-run.js';
import { outOfScopeReason } from '../plan/scope.js';
import { describeDisabled, readDisabled } from '../run/disabled.js';
import { EXIT_DISABLED, EXIT_LOCKED } from '../exit-codes.js';

/**
 * `agent run-now --plan PLAN_ID` (SPEC §10): this host's answer to one plan, now: the candidate
 * staged beside the active release and nooped, the answer uploaded. Nothing is applied. Exit 0
 * nothing would change, 2 changes, 4 failures; 1 when the plan cannot be run at all (no such plan,
 * not signed by a trusted key, expired, not an S3 source) or the answer could not be delivered.
 */
export async function planRunNowCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  const { values } = command;
  const planId = values.plan as string;
  const { config } = configFor(values, io.env);
  const json = values.json === true;
  const log = await commandLog(io, config, { toStderr: json });
  const progress = streamProgress((text) => io.stderr.write(text));
  const paths = statePaths(config);
  const trigger = (values.trigger as Trigger | undefined) ?? 'run-now';
  const waitMs = lockWaitMs(values);
  if (config.source.type !== 's3') {
    throw new AgentError('internal', `plans need an S3 source (SPEC §10): this host's source is ${config.source.type}; nothing was run`);
  }
  const disabled = values.force ? null : await readDisabled(paths.disabledFile, new Date());
  if (disabled) {
    io.stderr.write(`agent: ${describeDisabled(disabled)}; nothing was run (run-now --force overrides)\n`);
    return EXIT_DISABLED;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const s3 = createS3Client(config.source);
  let lock;
  try {
    lock = await acquireRunLock(paths.lockFile, log, { trigger, waitMs, signal: abort.signal });
  } catch (error) {
    s3.destroy();
    if (!isAgentError(error, 'lock_busy')) throw error;
    io.stderr.write(`agent: ${error.message}${waitMs ? ` (waited ${formatSeconds(waitMs)})` : ''}\n`);
    return EXIT_LOCKED;
  }
  try {
    let plan;
    try {
      plan = await fetchPlanById({ s3, config }, planId, new Date());
    } catch (error) {
      if (isAgentError(error, 'source_rejected') || isAgentError(error, 'source_unreachable')) throw new AgentError('internal', `${error.message}; nothing was run`);
      throw error;
    }
    const identity = await resolveIdentity(config, log);
    const outside = outOfScopeReason(plan, { instance_id: identity.id, roles: config.roles });
    if (outside) {
      io.stderr.write(`agent: ${outside}: nothing to answer\n`);
      return 0;
    }
    const outcome = await runPlan({ exec, log, now: () => new Date() }, { config, paths, identity, lock, progress, signal: abort.signal }, plan, s3);
    if (json) io.stdout.write(`${JSON.stringify(outcome.report, null, 2)}\n`);
    if (outcome.uploadError) {
      io.stderr.write(`agent: error    the answer to plan ${plan.plan_id} was not delivered: ${outcome.uploadError}\n`);
      return 1;
    }
    return outcome.report.exit_code;
  } finally {
    lock.release();
    s3.destroy();
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
