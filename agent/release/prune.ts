import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { Log } from '../adapters/log.js';
import { readActiveRelease } from './activate.js';

export const STAGING_PREFIX = '.staging-';

/** Delete releases beyond the `keep` most recently activated; never the active one. */
export async function pruneReleases(paths: StatePaths, keep: number, log: Log): Promise<void> {
  const active = await readActiveRelease(paths);
  const names = (await readdir(paths.releasesDir).catch(() => [] as string[])).filter(
    (name) => !name.startsWith('.') && !name.endsWith('.index.json'),
  );
  const dated = await Promise.all(
    names.map(async (name) => ({ name, activatedAt: (await stat(join(paths.releasesDir, name))).mtimeMs })),
  );
  const newestFirst = dated.sort((a, b) => b.activatedAt - a.activatedAt).map((release) => release.name);
  const kept = new Set(newestFirst.slice(0, keep));
  if (active) kept.add(active.id);
  for (const name of newestFirst.filter((release) => !kept.has(release))) {
    await rm(join(paths.releasesDir, name), { recursive: true, force: true });
    await rm(join(paths.releasesDir, `${name}.index.json`), { force: true });
    log.info({ release_id: name }, 'pruned an old release');
  }
}

/** Staging dirs a crashed run left behind: never activated, never trusted, removed before the next poll. */
export async function removeStaleStaging(paths: StatePaths): Promise<void> {
  const names = await readdir(paths.releasesDir).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith(STAGING_PREFIX))) {
    await rm(join(paths.releasesDir, name), { recursive: true, force: true });
  }
}
