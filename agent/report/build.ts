/** The report document (SPEC §5) and its exit code (SPEC §2): pure functions of what the run found. */
import type { ApplyOutcome, DisabledState, Drift, Mode, Report, Result, SourceOutcome, Trigger } from './types.js';

export interface ReportInput {
  runId: string;
  agentVersion: string;
  trigger: Trigger;
  mode: Mode;
  instance: Report['instance'];
  startedAt: Date;
  finishedAt: Date;
  nextDueAt: Date | null;
  source: SourceOutcome;
  apply: ApplyOutcome;
  drift: Drift;
  disabled?: DisabledState;
  /** The agent itself could not run (no good tree, internal error): result `error`, exit 1. */
  agentError?: string;
  /** report.redact: matches become `[redacted]` in every message. */
  redact: RegExp[];
  /** SPEC §9: the rollout this host follows. */
  rollout?: Report['rollout'];
}

/** SPEC §5: messages are cut at 1 KB. */
export const MESSAGE_LIMIT = 1024;

type Outcome = Pick<ReportInput, 'mode' | 'source' | 'apply' | 'drift' | 'disabled' | 'agentError'>;

/**
 * SPEC §2: 1 = the agent could not run, 3 = disabled; otherwise bit 2 = changes applied (enforce) or
 * drift found (noop), bit 4 = failures: a failed or timed-out Puppet, a failed resource, or a source that
 * failed or was refused (the last good tree was used). 0/2/4/6, like Puppet's detailed exit codes.
 */
export function exitCodeFor(input: Outcome): number {
  if (input.agentError) return 1;
  if (input.disabled) return 3;
  const failures =
    input.apply.status === 'failed' ||
    input.apply.status === 'timeout' ||
    input.apply.rolled_back_from !== undefined || // the new release failed, even though the rollback applied cleanly
    input.drift.failed > 0 ||
    input.source.status === 'unreachable' ||
    input.source.status === 'rejected';
  return (foundChanges(input) ? 2 : 0) | (failures ? 4 : 0);
}

function foundChanges({ mode, apply, drift }: Outcome): boolean {
  if (apply.status === 'changed') return true;
  // Puppet's exit 6 = changes beside failures: the apply stage calls that `failed`, the changes still happened
  const code = apply.puppet_exit_code;
  if (mode === 'enforce' && code !== null && code !== 1 && (code & 2) !== 0) return true;
  // noop exits 0 with drift (FIELD-NOTES), so read the drift; a failed resource is a failure, not a change
  return changedResources(drift) > 0;
}

/** Out-of-sync resources that did not fail: listed ones say exactly; a drift of bare counts is read from those. */
function changedResources(drift: Drift): number {
  return drift.resources.length > 0 ? drift.resources.filter((resource) => !resource.failed).length : drift.out_of_sync - drift.failed;
}

/** SPEC §5 result from the exit code: corrected wins over changed when both kinds of change happened. */
export function resultFor(exitCode: number, mode: Mode, drift: Drift): Result {
  if (exitCode === 1) return 'error';
  if (exitCode === 3) return 'disabled';
  if (exitCode & 4) return 'failed';
  if (!(exitCode & 2)) return 'compliant';
  if (mode === 'noop') return 'drifted';
  return drift.corrective > 0 ? 'corrected' : 'changed';
}

export function buildReport(input: ReportInput): Report {
  const clean = (text: string | undefined) => (text === undefined ? undefined : cleanMessage(text, input.redact));
  const exitCode = exitCodeFor(input);
  const report: Report = {
    schema: 'agent.report/v1',
    run_id: input.runId,
    agent_version: input.agentVersion,
    trigger: input.trigger,
    mode: input.mode,
    instance: input.instance,
    started_at: input.startedAt.toISOString(),
    finished_at: input.finishedAt.toISOString(),
    duration_ms: input.finishedAt.getTime() - input.startedAt.getTime(),
    next_due_at: input.nextDueAt?.toISOString() ?? null,
    source: withError(input.source, clean(input.source.error)),
    apply: withError(input.apply.rollback ? { ...input.apply, rollback: { ...input.apply.rollback, error: clean(input.apply.rollback.error)! } } : input.apply, clean(input.apply.error ?? input.agentError)),
    drift: {
      ...input.drift,
      resources: input.drift.resources.map((resource) => ({
        ...resource,
        events: resource.events.map((event) => ({ ...event, message: cleanMessage(event.message, input.redact) })),
      })),
    },
    result: resultFor(exitCode, input.mode, input.drift),
    exit_code: exitCode,
  };
  if (input.disabled) report.disabled = input.disabled;
  if (input.rollout) report.rollout = input.rollout;
  return report;
}

/** One line for logs and progress: `12 resources, 2 out of sync (1 corrective, 1 intentional), 0 failed, 0 flapping`. */
export function summarizeDrift(drift: Drift): string {
  return `${drift.resources_total} resources, ${drift.out_of_sync} out of sync (${drift.corrective} corrective, ${drift.intentional} intentional), ${drift.failed} failed, ${drift.flapping} flapping`;
}

/**
 * Redact first, so a cut can never leave half a secret behind; every match goes (a pattern configured
 * without the `g` flag would otherwise replace only the first). Cut on a character boundary.
 */
export function cleanMessage(text: string, redact: RegExp[]): string {
  const redacted = redact.reduce((current, pattern) => current.replace(everyMatch(pattern), '[redacted]'), text);
  const bytes = Buffer.from(redacted, 'utf8');
  if (bytes.length <= MESSAGE_LIMIT) return redacted;
  return `${bytes.subarray(0, MESSAGE_LIMIT - 3).toString('utf8').replace(/\uFFFD+$/, '')}...`;
}

function everyMatch(pattern: RegExp): RegExp {
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

/** A copy with `error` set to the cleaned message, or without the key when there is none. */
function withError<T extends { error?: string }>(value: T, error: string | undefined): T {
  const { error: _raw, ...rest } = value;
  return (error === undefined ? rest : { ...rest, error }) as T;
}
