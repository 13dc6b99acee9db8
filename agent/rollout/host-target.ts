import type { ReleasePointer } from '../release/manifest.js';
import type { FailedRelease } from '../release/failed-releases.js';
import { isOpen, type RolloutDocument } from './document.js';
import { isExposed, type RolloutMember } from './cohort.js';

/**
 * Which release should this host run? A pure decision from what the S3 source says (current.json and
 * a trusted rollout.json) and what the host remembers (releases it rolled back from). SPEC §9:
 * - an open rollout: exposed hosts run the candidate, every other host keeps `previous`;
 * - an aborted rollout: every host returns to `previous`, past the serial check because the signed
 *   rollout names it;
 * - no rollout, a completed one, or a publish newer than the rollout's candidate: current.json;
 * - a release this host rolled back from is not tried again while the same document names it.
 */
export interface TargetInput {
  pointer: ReleasePointer;
  rollout: RolloutDocument | null;
  host: RolloutMember;
  failed: readonly FailedRelease[];
  /** `agent run-now` typed on the host: the operator asks for the release again. */
  retryFailed: boolean;
}

/** What the report says of the rollout this host follows (SPEC §9 `rollout: {...}`). */
export interface RolloutReport {
  rollout_id: string;
  serial: number;
  step: number;
  percent: number;
  state: RolloutDocument['state'];
  exposed: boolean;
  candidate_release_id: string;
  /** This host rolled back from the candidate and holds `previous` (the controller counts it failed). */
  candidate_failed?: true;
}

export interface Target {
  /** The release to activate; null = keep the active release (the named one failed here before). */
  release: ReleasePointer | null;
  /** The document that named the release: a rolled-back release is retried when another names it. */
  namedBy: string;
  /** A signed rollout names an older release (abort, or a host returning to previous). */
  allowDowngrade: boolean;
  rollout?: RolloutReport;
  /** Set when the named release is held back: the reason, for progress and logs. */
  held?: string;
}

export function decideTarget(input: TargetInput): Target {
  const { pointer, rollout } = input;
  const followed = rollout && followsRollout(pointer, rollout) ? rollout : null;
  if (!followed) return holdFailed(input, { release: pointer, namedBy: `current.json serial ${pointer.serial}`, allowDowngrade: false });

  const exposed = followed.state !== 'aborted' && isExposed(followed, input.host, followed.step);
  const release = exposed ? followed.candidate : followed.previous;
  const report: RolloutReport = {
    rollout_id: followed.rollout_id,
    serial: followed.serial,
    step: followed.step,
    percent: followed.steps[followed.step] ?? 0,
    state: followed.state,
    exposed,
    candidate_release_id: followed.candidate.release_id,
  };
  const target = holdFailed(input, { release, namedBy: `rollout ${followed.rollout_id}`, allowDowngrade: !exposed, rollout: report });
  if (target.held && exposed) report.candidate_failed = true;
  return target;
}

/**
 * Does the rollout, not current.json, decide? An open or aborted rollout does, unless current.json
 * names a release newer than its candidate (published after it started). A completed one does not.
 */
function followsRollout(pointer: ReleasePointer, rollout: RolloutDocument): boolean {
  if (!isOpen(rollout.state) && rollout.state !== 'aborted') return false;
  return pointer.serial <= Math.max(rollout.candidate.serial, rollout.previous.serial);
}

function holdFailed(input: TargetInput, target: Target): Target {
  const held = target.release ? heldBack(input, target.release.release_id, target.namedBy) : undefined;
  return held ? { ...target, release: null, held } : target;
}

/**
 * Why `releaseId` is held back on this host, or undefined: it failed here and was rolled back while
 * `namedBy` named it, and the operator did not ask for it again. Shared with the rsync source.
 */
export function heldBack(input: Pick<TargetInput, 'failed' | 'retryFailed'>, releaseId: string, namedBy: string): string | undefined {
  if (input.retryFailed) return undefined;
  const failed = input.failed.find((entry) => entry.release_id === releaseId && entry.named_by === namedBy);
  if (!failed) return undefined;
  return `release ${releaseId.slice(0, 12)} failed here at ${failed.failed_at} and was rolled back; it is not tried again until something newer than ${namedBy} names it (or \`agent run-now\` on this host)`;
}
