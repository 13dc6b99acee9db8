/**
 * A host's answer to a plan (SPEC §10 `agent.plan-report/v1`), built by a pure function from Puppet's
 * noop report of the candidate: what would change (property, current → desired, a file's diff), what
 * would fail, compile errors. File contents appear only as diffs, redacted and capped; with
 * `report.plan_diffs: false` Puppet is not even asked for them and only checksums are sent.
 */
import type { ParsedPuppetReport } from '../apply/parse-report.js';
import { cleanMessage } from '../report/build.js';
import { cleanDiff, diffFromLogs, type PlanDiff } from './diff.js';

export const PLAN_REPORT_SCHEMA = 'agent.plan-report/v1';

/** unchanged: nothing would change; changes: something would; failed: something would fail, or the plan could not run here. */
export type PlanResult = 'unchanged' | 'changes' | 'failed';

export interface PlanChange {
  resource: string;
  type: string;
  title: string;
  manifest_file: string | null;
  line: number | null;
  events: Array<{ property: string; current: unknown; desired: unknown; message: string }>;
  diff?: PlanDiff;
}

export interface PlanFailure {
  /** The resource that would fail, or null for a compile error or a plan that could not run. */
  resource: string | null;
  message: string;
}

export interface PlanReport {
  schema: typeof PLAN_REPORT_SCHEMA;
  plan_id: string;
  run_id: string;
  agent_version: string;
  instance: { id: string; hostname: string; private_ip: string | null };
  roles: string[];
  /** The release this host enforces (untouched by the plan) and the candidate it nooped. */
  active_release_id: string | null;
  candidate_release_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  puppet_version: string | null;
  puppet_exit_code: number | null;
  result: PlanResult;
  /** 0 nothing would change, 2 changes, 4 failures (SPEC §10, as `plan show`). */
  exit_code: number;
  resources_total: number;
  changes: PlanChange[];
  failures: PlanFailure[];
  /** Puppet could not compile the candidate's catalog for this host (`Error:` lines). */
  compile_errors: string[];
}

export interface PlanRunFacts {
  exitCode: number | null;
  timedOut: boolean;
  /** Puppet's report of the noop, parsed; null when Puppet wrote none (compile error, timeout). */
  parsed: ParsedPuppetReport | null;
  errorLines: string[];
  puppetVersion: string | null;
}

export interface PlanReportInput {
  planId: string;
  runId: string;
  agentVersion: string;
  instance: PlanReport['instance'];
  roles: readonly string[];
  activeReleaseId: string | null;
  candidateReleaseId: string;
  startedAt: Date;
  finishedAt: Date;
  /** The candidate's directory on this host: cut from messages, so hosts with other state_dirs agree. */
  releaseDir: string | null;
  /** Why the plan could not run here at all (the candidate could not be staged...). */
  error?: string;
  run?: PlanRunFacts;
  redact: RegExp[];
  diffs: { enabled: boolean; maxBytes: number };
}

/** A report's diffs together stay under this many caps: 100 changed files cannot make a 6 MB object. */
const DIFF_BUDGET_CAPS = 16;

export function buildPlanReport(input: PlanReportInput): PlanReport {
  const local = (text: string) => (input.releaseDir ? text.split(`${input.releaseDir}/`).join('') : text);
  const clean = (text: string) => cleanMessage(local(text), input.redact);
  const base: Omit<PlanReport, 'result' | 'exit_code' | 'resources_total' | 'changes' | 'failures' | 'compile_errors'> = {
    schema: PLAN_REPORT_SCHEMA,
    plan_id: input.planId,
    run_id: input.runId,
    agent_version: input.agentVersion,
    instance: input.instance,
    roles: [...input.roles],
    active_release_id: input.activeReleaseId,
    candidate_release_id: input.candidateReleaseId,
    started_at: input.startedAt.toISOString(),
    finished_at: input.finishedAt.toISOString(),
    duration_ms: input.finishedAt.getTime() - input.startedAt.getTime(),
    puppet_version: input.run?.puppetVersion ?? null,
    puppet_exit_code: input.run?.exitCode ?? null,
  };
  const run = input.run;
  const failures: PlanFailure[] = [];
  const compileErrors: string[] = [];
  if (input.error) failures.push({ resource: null, message: clean(input.error) });
  else if (!run) failures.push({ resource: null, message: 'the plan did not run' });
  else if (run.timedOut) failures.push({ resource: null, message: 'puppet apply --noop timed out (puppet.timeout) and was killed' });
  else if (!run.parsed) {
    const lines = run.errorLines.length ? run.errorLines : [`puppet apply --noop exited ${String(run.exitCode)} and wrote no report`];
    // `Error: ` says nothing here, and `on node <fqdn>` would split one error into one group per host
    compileErrors.push(...lines.map((line) => clean(line.replace(/^Error: /, '').replace(/ on node \S+$/, ''))));
    failures.push(...compileErrors.map((message) => ({ resource: null, message })));
  }
  const changes: PlanChange[] = [];
  let budget = input.diffs.maxBytes * DIFF_BUDGET_CAPS;
  for (const resource of run?.parsed?.resources ?? []) {
    if (resource.failed) {
      const why = resource.events.filter((event) => event.status === 'failure').map((event) => event.message);
      const logged = run!.parsed!.logs.filter((log) => log.level === 'err' && log.source.includes(resource.resource)).map((log) => log.message);
      failures.push({ resource: resource.resource, message: clean([...why, ...logged][0] ?? 'failed') });
      continue;
    }
    if (!resource.outOfSync) continue;
    const change: PlanChange = {
      resource: resource.resource,
      type: resource.type,
      title: resource.title,
      manifest_file: resource.file === null ? null : local(resource.file),
      line: resource.line,
      events: resource.events.map((event) => ({ property: event.property, current: event.previous_value, desired: event.desired_value, message: clean(event.message) })),
    };
    const raw = input.diffs.enabled ? diffFromLogs(run!.parsed!.logs, resource.resource) : undefined;
    if (raw !== undefined && budget > 0) {
      change.diff = cleanDiff(raw, input.redact, Math.min(input.diffs.maxBytes, budget));
      budget -= change.diff.lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    }
    changes.push(change);
  }
  const result: PlanResult = failures.length > 0 ? 'failed' : changes.length > 0 ? 'changes' : 'unchanged';
  return {
    ...base,
    result,
    exit_code: planExitCode(result),
    resources_total: run?.parsed?.resources.length ?? 0,
    changes,
    failures,
    compile_errors: compileErrors,
  };
}

/** SPEC §10: 0 nothing would change, 2 changes, 4 failures. */
export function planExitCode(result: PlanResult): number {
  return result === 'failed' ? 4 : result === 'changes' ? 2 : 0;
}
