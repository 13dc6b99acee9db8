/**
 * One run (SPEC §1), under the run lock the caller holds:
 *
 *   poll ──► stage ──► verify ──► activate      source stage: a new verified release, or the last good one
 *                                     │
 *                          apply (puppet apply)   apply stage: Puppet on the active release → drift
 *                                     │
 *             report: spool (fsync) ──► S3 ──► status.json
 *
 * Never throws: whatever happens ends in a report, and the report's exit code is the run's.
 */
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Config } from '../config/schema.js';
import type { Report } from '../report/types.js';
import { EMPTY_DRIFT } from '../report/types.js';
import { buildReport, type ReportInput } from '../report/build.js';
import { describeError } from '../errors.js';
import { agentVersion } from '../version.js';
import { syncRelease } from './source-stage.js';
import { skippedApply, type AppliedRelease } from './apply-stage.js';
import { applyOrRollBack } from './rollback-stage.js';
import type { RolloutReport } from '../rollout/host-target.js';
import { finishReport, deliverPending, shouldPublish } from './report-stage.js';
import { answerOpenPlan } from '../plan/answer-open-plan.js';
import { sourceLocation, type RunContext, type RunRequest } from './run-context.js';

// The run's shared types live in run-context.ts: the stages import them from there, never from this
// file, so nothing in run/ imports run-once back (it imports every stage).
export type { RunContext, RunRequest } from './run-context.js';

export async function runOnce(deps: Deps, context: RunContext, request: RunRequest): Promise<Report> {
  const startedAt = deps.now();
  const runId = randomUUID();
  const log = deps.log.child({ run_id: runId, trigger: request.trigger });
  const runDeps = { ...deps, log };
  const { config, identity } = context;

  const base: ReportBase = {
    runId,
    agentVersion: agentVersion(),
    trigger: request.trigger,
    mode: request.mode,
    instance: { id: identity.id, hostname: identity.hostname, private_ip: identity.private_ip, roles: [...config.roles] },
    startedAt,
    redact: config.report.redact.map((pattern) => new RegExp(pattern, 'g')),
  };
  if (request.disabled) return disabledRun(runDeps, context, request, base);
  let report: Report;
  try {
    await deliverPending(runDeps, context);
    const synced = await syncRelease(runDeps, context, request);
    const releaseChanged = synced.source.status === 'updated';
    const sourceFailed = synced.source.status === 'unreachable' || synced.source.status === 'rejected';
    const apply = request.shouldApply({ releaseChanged, sourceFailed })
      ? await applyOrRollBack(runDeps, context, { mode: request.mode, synced, runId, lastApply: request.lastApply })
      : skippedApply(synced.active);
    const finishedAt = deps.now();
    report = buildReport({
      ...base,
      finishedAt,
      nextDueAt: nextDueAt(config, finishedAt),
      source: synced.source,
      apply: apply.outcome,
      drift: apply.drift,
      agentError: apply.agentError,
      ...(synced.rollout ? { rollout: rolloutAfter(synced.rollout, apply) } : {}),
    });
  } catch (error) {
    log.error({ err: error }, 'run failed inside the agent');
    report = reportWithoutRun(config, base, deps.now(), { agentError: `internal error: ${describeError(error)}` });
  }
  const finished = await finishReport(runDeps, context, report, shouldPublish(report));
  if (finished.source.status !== 'unreachable') await answerOpenPlan(runDeps, context, request); // SPEC §10: after the run, never instead of it
  return finished;
}

/**
 * A scheduled run while disabled: no poll, no Puppet. It reports (result `disabled`, exit 3) only when
 * it would have applied, so the fleet view shows who disabled the host and why, once per drift_check_every.
 */
async function disabledRun(deps: Deps, context: RunContext, request: RunRequest, base: ReportBase): Promise<Report> {
  const report = reportWithoutRun(context.config, base, deps.now(), { disabled: request.disabled ?? undefined });
  const due = request.shouldApply({ releaseChanged: false, sourceFailed: false });
  context.progress.note(`disabled by ${report.disabled?.by} since ${report.disabled?.at}: ${report.disabled?.reason}`);
  return finishReport(deps, context, report, due);
}

type ReportBase = Omit<ReportInput, 'finishedAt' | 'nextDueAt' | 'source' | 'apply' | 'drift'>;

/** The report of a run that neither polled nor applied: disabled, or stopped by an internal error. */
function reportWithoutRun(config: Readonly<Config>, base: ReportBase, finishedAt: Date, why: Pick<ReportInput, 'agentError' | 'disabled'>): Report {
  return buildReport({
    ...base,
    ...why,
    finishedAt,
    nextDueAt: nextDueAt(config, finishedAt),
    source: { type: config.source.type, url_or_bucket: sourceLocation(config), status: 'skipped', release_id: null, files_changed: 0, bytes_transferred: 0 },
    apply: skippedApply(null).outcome,
    drift: EMPTY_DRIFT,
  });
}

/** A host that just rolled back from the candidate holds previous: the controller counts it failed. */
function rolloutAfter(rollout: RolloutReport, apply: AppliedRelease): RolloutReport {
  const rolledBack = rollout.exposed && apply.outcome.rolled_back_from === rollout.candidate_release_id;
  return rolledBack ? { ...rollout, candidate_failed: true } : rollout;
}

/** When the fleet should next hear from this host: an apply happens at least every drift_check_every. */
export function nextDueAt(config: Pick<Config, 'drift_check_every' | 'splay'>, finishedAt: Date): Date {
  return new Date(finishedAt.getTime() + config.drift_check_every + config.splay);
}
