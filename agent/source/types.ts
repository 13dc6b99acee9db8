/** What a manifest source hands the run: a staged, verified release directory (SPEC §1 poll/stage/verify). */
import type { FailedRelease } from '../release/failed-releases.js';
import type { RolloutMember } from '../rollout/cohort.js';
import type { RolloutReport } from '../rollout/host-target.js';

export interface ActiveRelease {
  id: string;
  /** state_dir/releases/<id> */
  dir: string;
}

export interface FetchedRelease {
  /** unchanged: the source offers the active release; nothing was staged. */
  status: 'unchanged' | 'updated';
  releaseId: string;
  /** The staged (or, when unchanged, the active) release directory. Not yet activated. */
  releaseDir: string;
  filesChanged: number;
  bytesTransferred: number;
  /** The document that named the release (a rolled-back release is retried when another names it). */
  namedBy: string;
  /** SPEC §9: the rollout this host follows, for the report. */
  rollout?: RolloutReport;
  /** The source names a release this host rolled back from: it stays on the active one, and why. */
  held?: string;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** `run-now --allow-downgrade`: a lower serial is a deliberate rollback, not a replay. */
  allowDowngrade?: boolean;
  /** Who this host is, for its rollout cohort. */
  host?: RolloutMember;
  /** Releases this host rolled back from (state_dir/failed-releases.json). */
  failed?: readonly FailedRelease[];
  /** `agent run-now` on the host: try a rolled-back release again. */
  retryFailed?: boolean;
  /** The daemon's runs: an SSH connection may outlive the run for the next tick (source/ssh-control.ts). */
  keepConnection?: boolean;
}
