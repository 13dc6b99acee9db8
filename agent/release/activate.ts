import { lstat, readlink, rename, symlink, utimes, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease } from '../source/types.js';
import type { Log } from '../adapters/log.js';
import { syncDirectory } from '../adapters/files.js';

/** The release `stage_dir` points at, or null on a host that has never activated one. */
export async function readActiveRelease(paths: StatePaths): Promise<ActiveRelease | null> {
  let target: string;
  try {
    target = await readlink(paths.stageDir);
  } catch {
    return null; // absent, or a real directory left by the old rsync script
  }
  const dir = resolve(dirname(paths.stageDir), target);
  if (dirname(dir) !== resolve(paths.releasesDir) || !existsSync(dir)) return null;
  return { id: basename(dir), dir };
}

/**
 * Repoint `stage_dir` at `releases/<id>` in one rename(2): a new symlink beside it, renamed over it.
 * At every instant `stage_dir` names a complete release, the old one or the new one.
 */
export async function activateRelease(paths: StatePaths, releaseId: string, log: Log): Promise<void> {
  const releaseDir = join(paths.releasesDir, releaseId);
  await moveAsideRealStageDir(paths.stageDir, log);
  const temp = `${paths.stageDir}.next-${process.pid}`;
  await unlink(temp).catch(() => undefined);
  await symlink(releaseDir, temp);
  await rename(temp, paths.stageDir);
  await syncDirectory(dirname(paths.stageDir));
  const now = new Date();
  await utimes(releaseDir, now, now); // activation order, for pruning
}

/** A host migrating from the seed's `rsync && puppet apply` script has a real directory there: keep it, once. */
async function moveAsideRealStageDir(stageDir: string, log: Log): Promise<void> {
  const stats = await lstat(stageDir).catch(() => null);
  if (!stats || stats.isSymbolicLink()) return;
  let aside = `${stageDir}.pre-agent`;
  if (existsSync(aside)) aside = `${aside}.${Date.now()}`;
  await rename(stageDir, aside);
  log.warn({ stage_dir: stageDir, moved_to: aside }, 'stage_dir was a real directory (the old rsync script): moved aside, now a symlink to the active release');
}
