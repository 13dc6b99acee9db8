/**
 * A host's part of a plan (SPEC §10), under the run lock the caller holds:
 *
 *   stage the candidate beside the active release ──► puppet apply --noop --show_diff on it
 *        (plans/trees/<id>, never activated)            (own vardir, the host's real facts)
 *                                 │
 *        plan report (pure, report.ts) ──► report bucket: plans/<plan_id>/<instance_id>.json
 *
 * Nothing here touches stage_dir, releases/, Puppet's state of real runs, the drift state or the
 * spool: the active release stays what it was, enforced by the normal runs. Never throws for the
 * plan's sake: a candidate that cannot be staged or compiled is an answer too (result failed).
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../deps.js';
import type { RunContext } from '../run/run-context.js';
import { readActiveRelease } from '../release/activate.js';
import { runPuppet } from '../apply/puppet-run.js';
import { parsePuppetReport } from '../apply/parse-report.js';
import { createS3Client, describeS3Error } from '../adapters/s3.js';
import { describeError } from '../errors.js';
import { agentVersion } from '../version.js';
import { shortId } from '../run/source-stage.js';
import { stageCandidate } from './stage-candidate.js';
import { buildPlanReport, type PlanReport, type PlanRunFacts } from './report.js';
import { planReportKey } from './keys.js';
import { planPaths } from './paths.js';
import type { PlanDocument } from './document.js';

export interface PlanOutcome {
  report: PlanReport;
  /** Why the report did not reach S3; absent when it did. */
  uploadError?: string;
}

export async function runPlan(deps: Pick<Deps, 'exec' | 'log' | 'now'>, context: RunContext, plan: PlanDocument, source: S3Client): Promise<PlanOutcome> {
  const { config, paths, progress, identity, lock } = context;
  const planDirs = planPaths(paths);
  const startedAt = deps.now();
  const runId = randomUUID();
  const active = await readActiveRelease(paths);
  const candidate = plan.candidate.release_id;
  let releaseDir: string | null = null;
  let error: string | undefined;
  let run: PlanRunFacts | undefined;
  progress.note(`plan     ${plan.plan_id}: release ${shortId(candidate)} staged beside the active ${shortId(active?.id)}, never activated`);
  try {
    const staged = await stageCandidate(deps, config, paths, planDirs, active, candidate, source);
    releaseDir = staged.dir;
    progress.note(`plan     candidate ${staged.reused ? 'already staged' : `staged and verified (${staged.bytes} bytes downloaded)`}`);
  } catch (failure) {
    error = `could not stage the candidate: ${describeError(failure)}`;
    progress.note(`plan     ${error}`);
  }
  if (releaseDir) {
    progress.started('apply', `puppet apply --noop of the candidate ${shortId(candidate)}`);
    const extra = ['--noop', ...(config.report.plan_diffs ? ['--show_diff'] : [])]; // after extra_args: an operator's --no-noop cannot win
    const puppet = await runPuppet(deps, {
      config: { puppet: { ...config.puppet, mode: 'noop', extra_args: [...config.puppet.extra_args, ...extra] } },
      paths: { puppetDir: planDirs.puppetDir },
      releaseDir,
      mode: 'noop',
      facts: { agent_instance_id: identity.id, agent_roles: config.roles.join(','), agent_release: candidate, agent_run_id: runId, agent_plan_id: plan.plan_id },
      signal: context.signal,
      onSpawn: (pgid) => lock.recordPuppet(pgid),
    });
    lock.clearPuppet();
    let parsed = null;
    if (puppet.reportYaml !== null) {
      try {
        parsed = parsePuppetReport(puppet.reportYaml);
      } catch (failure) {
        error = `could not read Puppet's report: ${describeError(failure)}`;
      }
    }
    run = { exitCode: puppet.exitCode, timedOut: puppet.timedOut, parsed, errorLines: puppet.errorLines, puppetVersion: parsed?.puppetVersion ?? puppet.puppetVersion };
    progress.finished('apply', `noop of the candidate: Puppet exited ${String(puppet.exitCode)}`, puppet.durationMs);
  }
  const report = buildPlanReport({
    planId: plan.plan_id,
    runId,
    agentVersion: agentVersion(),
    instance: { id: identity.id, hostname: identity.hostname, private_ip: identity.private_ip },
    roles: config.roles,
    activeReleaseId: active?.id ?? null,
    candidateReleaseId: candidate,
    startedAt,
    finishedAt: deps.now(),
    releaseDir,
    ...(error ? { error } : {}),
    ...(run ? { run } : {}),
    redact: config.report.redact.map((pattern) => new RegExp(pattern, 'g')),
    diffs: { enabled: config.report.plan_diffs, maxBytes: config.report.plan_diff_max },
  });
  const uploadError = await uploadPlanReport(config.report, report);
  if (uploadError) deps.log.warn({ err: uploadError, plan_id: plan.plan_id }, 'plan report not delivered');
  for (const line of describePlanLines(report)) progress.note(line);
  progress.note(`plan     ${describePlanReport(report)}; ${uploadError ? `NOT delivered: ${uploadError}` : `delivered to s3://${config.report.bucket}/${planReportKey(config.report.prefix, plan.plan_id, identity.id)}`}`);
  return { report, ...(uploadError ? { uploadError } : {}) };
}

/** One PUT; a plan report is not spooled: the plan is short-lived, and an unanswered host is asked again. */
async function uploadPlanReport(location: RunContext['config']['report'], report: PlanReport): Promise<string | undefined> {
  const s3 = createS3Client(location);
  const key = planReportKey(location.prefix, report.plan_id, report.instance.id);
  try {
    await s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: key, Body: `${JSON.stringify(report, null, 2)}\n`, ContentType: 'application/json' }));
    return undefined;
  } catch (error) {
    return `s3://${location.bucket}/${key}: ${describeS3Error(error)}`;
  } finally {
    s3.destroy();
  }
}

/** What would change or fail, one line each, for the operator watching `run-now --plan`. */
const LISTED = 20;
export function describePlanLines(report: PlanReport): string[] {
  const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const lines = [
    ...report.changes.map((change) => `  ${change.resource}: ${change.events.map((event) => `${event.property} ${show(event.current)} -> ${show(event.desired)}`).join(', ') || 'would change'}`),
    ...report.failures.map((failure) => `  FAILED ${failure.resource ?? 'catalog'}: ${failure.message.split('\n')[0]}`),
  ];
  return lines.length > LISTED ? [...lines.slice(0, LISTED), `  ... and ${lines.length - LISTED} more (--json has all, with diffs)`] : lines;
}

export function describePlanReport(report: PlanReport): string {
  const parts = [`${report.changes.length} resource${report.changes.length === 1 ? '' : 's'} would change`, `${report.failures.length} would fail`];
  return `${report.result} (exit ${report.exit_code}): ${parts.join(', ')} of ${report.resources_total}`;
}
