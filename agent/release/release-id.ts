import { createHash } from 'node:crypto';

/**
 * One file of a release as the id sees it (SPEC §5). A symlink counts as a file whose content is its
 * target string (sha256 of the target) with mode "120000" (git's symlink mode), so retargeting a link
 * is a new release. Directories do not count: an empty directory changes nothing Puppet can read.
 */
export interface ReleaseEntry {
  /** Relative to the tree root, `/`-separated, no leading `./`. */
  path: string;
  sha256: string;
  /** Octal permission bits, e.g. "0644"; "120000" for a symlink. */
  mode: string;
}

export const SYMLINK_MODE = '120000';

/** Files under `.release/` describe the release; they are not part of it. */
export function isReleaseMetadata(path: string): boolean {
  return path === '.release' || path.startsWith('.release/');
}

/**
 * SPEC §5: hex SHA-256 over the sorted lines `path NUL sha256 NUL mode LF` of every file outside
 * `.release/`. The same tree always has the same id; a chmod alone makes a new release.
 */
export function computeReleaseId(entries: readonly ReleaseEntry[]): string {
  const hash = createHash('sha256');
  const sorted = entries.filter((entry) => !isReleaseMetadata(entry.path)).sort((a, b) => compareBytes(a.path, b.path));
  for (const entry of sorted) hash.update(`${entry.path}\0${entry.sha256}\0${entry.mode}\n`);
  return hash.digest('hex');
}

/** Byte order, not locale order, so every platform sorts the same way. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** st_mode → the 4-digit octal permission string of the id ("0644", "4755"). */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
