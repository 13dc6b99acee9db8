import { buildManifest, releaseIdOf, type ManifestFile, type ReleaseManifest } from '../release/manifest.js';

/** A release already published, in DIR's `.release/` or at the S3 target. */
export interface PublishedRelease {
  release_id: string;
  serial: number;
  created_at?: string;
  created_by?: string;
}

/**
 * The manifest `agent publish` writes, pure. A tree published before (same release_id) keeps its
 * serial and creation stamp, so publishing twice writes the same bytes and the same signature.
 * Any other tree gets the higher of: one past every release seen in DIR or at the target, and the
 * publish time in whole seconds. The clock is the floor because a publisher that regenerates DIR
 * (rsync --delete of a git checkout, a CI job) loses `.release/`: from 1 again, every host would
 * refuse the release as "the same serial with different content" and the fleet would stop taking
 * changes. `explicit` is `--serial N`, the operator's choice, taken as given.
 */
export function nextManifest(
  files: Record<string, ManifestFile>,
  published: readonly PublishedRelease[],
  now: Date,
  by: string,
  explicit?: number,
): ReleaseManifest {
  const id = releaseIdOf(files);
  const same = published.find((release) => release.release_id === id && release.created_at && release.created_by);
  if (same && (explicit === undefined || explicit === same.serial)) {
    return { ...buildManifest(files, { serial: same.serial, createdAt: now, createdBy: by }), created_at: same.created_at!, created_by: same.created_by! };
  }
  const serial = explicit ?? Math.max(Math.floor(now.getTime() / 1000), Math.max(0, ...published.map((release) => release.serial)) + 1);
  return buildManifest(files, { serial, createdAt: now, createdBy: by });
}

/** The highest serial seen, when `--serial N` would not go past it: hosts that have it refuse N. */
export function serialWarning(explicit: number, published: readonly PublishedRelease[]): string | null {
  const highest = Math.max(0, ...published.map((release) => release.serial));
  if (explicit > highest) return null;
  return `--serial ${explicit} is not above serial ${highest} published before: hosts that took it refuse this release unless run with --allow-downgrade`;
}
