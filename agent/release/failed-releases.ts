import { readJsonFile, writeFileAtomic } from '../adapters/files.js';

/**
 * Releases this host rolled back from (SPEC §9, "a host never keeps a release that broke it"), kept in
 * `state_dir/failed-releases.json`. A release listed here is not activated again while the same
 * document names it (`named_by`); a new rollout, a new publish, or `run-now` on the host retries it.
 */
export interface FailedRelease {
  release_id: string;
  named_by: string;
  failed_at: string;
  error: string;
}

/** Enough to cover every release a host could be offered in a row; older marks are long superseded. */
const KEEP = 20;

export async function readFailedReleases(file: string): Promise<FailedRelease[]> {
  const entries = await readJsonFile<FailedRelease[]>(file);
  return Array.isArray(entries) ? entries.filter((entry) => typeof entry?.release_id === 'string' && typeof entry.named_by === 'string') : [];
}

/** `entries` with `mark` added (replacing an older mark of the same release), newest last. Pure. */
export function withFailedRelease(entries: readonly FailedRelease[], mark: FailedRelease): FailedRelease[] {
  return [...entries.filter((entry) => entry.release_id !== mark.release_id), mark].slice(-KEEP);
}

export async function writeFailedReleases(file: string, entries: readonly FailedRelease[]): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(entries, null, 2)}\n`);
}
