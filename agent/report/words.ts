/**
 * The words an operator reads for what the report holds as codes (SPEC §2 exit codes, §5 results).
 * Pure; used by run-now's closing line and `agent status`.
 */
export type Mode = 'enforce' | 'noop';

/** What an exit code of run-now means, e.g. "exit 2: changes applied" (SPEC §2's table). */
export function describeExit(code: number, mode: Mode): string {
  const meaning: Record<number, string> = {
    0: mode === 'noop' ? 'nothing would change' : 'nothing to change',
    2: mode === 'noop' ? 'drift found, nothing changed (--noop)' : 'changes applied',
    4: 'failures',
    6: mode === 'noop' ? 'drift found and failures' : 'changes applied, and failures',
    1: 'the agent could not run',
    3: 'runs are disabled',
    75: 'another run holds the lock',
  };
  return `exit ${code}: ${meaning[code] ?? 'unknown'}`;
}

/** An elapsed time as a person says it: "42 s", "55 min", "3 h 5 min", "2 d 4 h". */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** One resource's events, e.g. "content put back (it had drifted from what the last run applied)". */
export function describeResourceChange(resource: {
  events: ReadonlyArray<{ property: string; status: string }>;
  failed?: boolean;
  corrective_change: boolean;
  flapping: boolean;
}): string {
  const verb = (status: string): string => {
    if (status === 'failure') return 'failed';
    if (status === 'noop') return resource.corrective_change ? 'would be put back' : 'would change';
    return resource.corrective_change ? 'put back' : 'changed';
  };
  const what = resource.events.map((event) => `${event.property} ${verb(event.status)}`).join(', ') || 'out of sync';
  const why = resource.failed ? 'FAILED' : resource.corrective_change ? 'it had drifted from what the last run applied' : 'new in this release';
  return `${what} (${why}${resource.flapping ? '; flapping: put back in 3 of the last 5 runs' : ''})`;
}
