import { rmSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { Log } from '../adapters/log.js';
import { readActiveRelease } from './activate.js';
import { readTreeIndex } from './tree-index.js';
import { entryName, pruneObjectCache } from '../source/object-cache.js';

/** Staging dirs are hidden (`.`-prefixed) so nothing mistakes one for a release. */
export const STAGING_PREFIX = '.staging-';
const INDEX_SUFFIX = '.index.json';
/** SPEC §1.4: the active release and two to roll back to. */
export const KEEP_RELEASES = 3;

/**
 * Delete releases beyond the `keep` most recently activated (activation touches a release dir's
 * mtime), and their indexes; the active one is kept whatever its age. An index whose release is
 * gone (a crash between writing it and the rename) goes too.
 */
export async function pruneReleases(paths: StatePaths, keep: number = KEEP_RELEASES, log: Log): Promise<void> {
  const active = await readActiveRelease(paths);
  const entries = await readdir(paths.releasesDir, { withFileTypes: true }).catch(() => []);
  const releases = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  const dated = await Promise.all(releases.map(async (name) => ({ name, activatedAt: await mtimeOf(join(paths.releasesDir, name)) })));
  const newestFirst = dated.sort((a, b) => b.activatedAt - a.activatedAt).map((release) => release.name);
  const kept = new Set(newestFirst.slice(0, keep));
  if (active) kept.add(active.id);
  for (const name of newestFirst.filter((release) => !kept.has(release))) {
    // synchronous: the promise version pays a thread-pool round trip per file of the release
    rmSync(join(paths.releasesDir, name), { recursive: true, force: true, maxRetries: 2 });
    await rm(join(paths.releasesDir, `${name}${INDEX_SUFFIX}`), { force: true });
    log.info({ release_id: name }, 'pruned an old release');
  }
  const orphans = entries.filter((entry) => entry.name.endsWith(INDEX_SUFFIX) && !kept.has(entry.name.slice(0, -INDEX_SUFFIX.length)));
  for (const orphan of orphans) await rm(join(paths.releasesDir, orphan.name), { force: true });
}

/** A release that vanished meanwhile sorts oldest: it has nothing left to keep. */
async function mtimeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.mtimeMs ?? 0;
}

/** Staging dirs a crashed run left behind: never activated, never trusted, removed before the next poll. */
export async function removeStaleStaging(paths: StatePaths): Promise<void> {
  const names = await readdir(paths.releasesDir).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith(STAGING_PREFIX))) {
    await rm(join(paths.releasesDir, name), { recursive: true, force: true, maxRetries: 2 });
  }
}

/**
 * After releases were pruned: drop the S3 source's cached objects that no kept release uses, so the
 * cache holds about what the kept releases hold, not every file ever published.
 */
export async function pruneCache(paths: StatePaths, log: Log): Promise<void> {
  const entries = await readdir(paths.releasesDir, { withFileTypes: true }).catch(() => []);
  const inUse = new Set<string>();
  for (const release of entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))) {
    const index = await readTreeIndex(paths, release.name);
    for (const file of Object.values(index?.files ?? {})) inUse.add(entryName(file.sha256, file.mode));
  }
  const pruned = await pruneObjectCache(paths.objectCacheDir, inUse);
  if (pruned > 0) log.info({ pruned }, 'pruned cached objects no kept release uses');
}
