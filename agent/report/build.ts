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
  redact: RegExp[];
}

/** SPEC §5: messages are cut at 1 KB. */
export const MESSAGE_LIMIT = 1024;

/**
 * SPEC §2 exit codes: 2 = changes applied or drift found (noop: Puppet itself exits 0 there, so this
 * reads the drift, not Puppet's code), 4 = failures, including a source that failed or was refused
 * (the last good tree was used), 6 = both; 1 = the agent could not run; 3 = disabled.
 */
export function exitCodeFor(input: Pick<ReportInput, 'source' | 'apply' | 'drift' | 'disabled' | 'agentError'>): number {
  if (input.agentError) return 1;
  if (input.disabled) return 3;
  const failures =
    input.apply.status === 'failed' ||
    input.apply.status === 'timeout' ||
    input.drift.failed > 0 ||
    input.source.status === 'unreachable' ||
    input.source.status === 'rejected';
  const changes = input.drift.out_of_sync - input.drift.failed > 0 || input.apply.status === 'changed';
  return (changes ? 2 : 0) | (failures ? 4 : 0);
}

export function resultFor(exitCode: number, mode: Mode, drift: Drift): Result {
  if (exitCode === 1) return 'error';
  if (exitCode === 3) return 'disabled';
  if (exitCode & 4) return 'failed';
  if (drift.out_of_sync === 0 && !(exitCode & 2)) return 'compliant';
  if (mode === 'noop') return 'drifted';
  return drift.corrective > 0 ? 'corrected' : 'changed';
}

/** The report document: a pure function of what the run found. */
export function buildReport(input: ReportInput): Report {
  const scrub = (text: string | undefined) => (text === undefined ? undefined : cleanMessage(text, input.redact));
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
    source: withError(input.source, scrub(input.source.error)),
    apply: withError(input.apply, scrub(input.apply.error ?? input.agentError)),
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
  return report;
}

/** Redact first, so a cut can never leave half a secret behind. */
export function cleanMessage(text: string, redact: RegExp[]): string {
  const redacted = redact.reduce((current, pattern) => current.replace(pattern, '[redacted]'), text);
  const bytes = Buffer.from(redacted, 'utf8');
  return bytes.length <= MESSAGE_LIMIT ? redacted : `${bytes.subarray(0, MESSAGE_LIMIT - 3).toString('utf8').replace(/\uFFFD$/, '')}...`;
}

/** A copy with `error` set to the cleaned message, or without the key when there is none. */
function withError<T extends { error?: string }>(value: T, error: string | undefined): T {
  const { error: _raw, ...rest } = value;
  return (error === undefined ? rest : { ...rest, error }) as T;
}
