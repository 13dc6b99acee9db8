import type { Report } from '../../agent/report/types.js';
import type { TimedRun } from './timed.js';

/** The report `run-now --json` printed, or an error that shows what came instead. */
export function reportOf(run: TimedRun, what: string): Report {
  try {
    return JSON.parse(run.stdout) as Report;
  } catch {
    throw new Error(`${what}: expected a JSON report on stdout (exit ${run.exitCode}); stderr tail: ${run.stderr.slice(-600)}`);
  }
}
