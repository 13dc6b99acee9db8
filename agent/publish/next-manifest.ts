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
 * serial and creation stamp, so publishing twice writes the same bytes and the same signature;
 * any other tree gets a serial one higher than every release seen in DIR or at the target.
 */
export function nextManifest(files: Record<string, ManifestFile>, published: readonly PublishedRelease[], now: Date, by: string): ReleaseManifest {
  const id = releaseIdOf(files);
  const same = published.find((release) => release.release_id === id && release.created_at && release.created_by);
  if (same) {
    return { ...buildManifest(files, { serial: same.serial, createdAt: now, createdBy: by }), created_at: same.created_at!, created_by: same.created_by! };
  }
  const serial = Math.max(0, ...published.map((release) => release.serial)) + 1;
  return buildManifest(files, { serial, createdAt: now, createdBy: by });
}
