/**
 * Does this run call Puppet? (SPEC §1) Polls are cheap; applies cost ~1.5 s and ~70 MB, and every apply
 * writes to S3. A scheduled run applies when the release changed, the source failed (apply the last good
 * tree), the last run did not succeed, or the last apply is older than drift_check_every.
 * run-now always applies.
 */
export interface ApplyDecisionInput {
  trigger: 'schedule' | 'boot' | 'run-now' | 'fleet' | 'signal';
  releaseChanged: boolean;
  sourceFailed: boolean;
  /** Exit code of the previous run, null when there was none. */
  lastExitCode: number | null;
  /** When the last apply (or disabled report) finished, null when never. */
  lastApplyAt: Date | null;
  now: Date;
  driftCheckEveryMs: number;
}

/**
 * How early a drift check may come. The last report is stamped when its run finished, a few seconds
 * after its tick, so the poll exactly drift_check_every later would be seconds short and skip: applies
 * would come every 35 minutes instead of 30. A minute (at most a tenth of the period) absorbs that.
 */
export function driftCheckSlackMs(driftCheckEveryMs: number): number {
  return Math.min(60_000, Math.floor(driftCheckEveryMs / 10));
}

export type ApplyReason = 'requested' | 'release-changed' | 'source-failed' | 'last-run-failed' | 'never-applied' | 'drift-check-due' | 'skip';

export function applyReason(input: ApplyDecisionInput): ApplyReason {
  if (input.trigger === 'run-now' || input.trigger === 'fleet' || input.trigger === 'signal') return 'requested';
  if (input.releaseChanged) return 'release-changed';
  if (input.sourceFailed) return 'source-failed';
  if (input.lastExitCode !== null && input.lastExitCode !== 0 && input.lastExitCode !== 2) return 'last-run-failed';
  if (!input.lastApplyAt) return 'never-applied';
  const elapsed = input.now.getTime() - input.lastApplyAt.getTime();
  if (elapsed >= input.driftCheckEveryMs - driftCheckSlackMs(input.driftCheckEveryMs)) return 'drift-check-due';
  return 'skip';
}

/** A run that failed asks for a retry with backoff: the agent could not run, or something failed. */
export function runFailed(exitCode: number): boolean {
  return exitCode === 1 || (exitCode & 4) !== 0;
}
