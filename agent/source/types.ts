/** What a manifest source hands the run: a staged, verified release directory (SPEC §1 poll/stage/verify). */

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
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** `run-now --allow-downgrade`: a lower serial is a deliberate rollback, not a replay. */
  allowDowngrade?: boolean;
}
