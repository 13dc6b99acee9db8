import { lstat, mkdir, readlink, rename, symlink, utimes, unlink } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease } from '../source/types.js';
import type { Log } from '../adapters/log.js';
import { syncDirectory } from '../adapters/files.js';
import { AgentError } from '../errors.js';

/**
 * The release `stage_dir` points at, or null on a host that has never activated one: stage_dir
 * absent, a real directory (the old rsync script's), or a link to anything but a release dir.
 */
export async function readActiveRelease(paths: StatePaths): Promise<ActiveRelease | null> {
  let target: string;
  try {
    target = await readlink(paths.stageDir);
  } catch {
    return null;
  }
  const dir = resolve(dirname(paths.stageDir), target);
  const id = basename(dir);
  if (dirname(dir) !== resolve(paths.releasesDir) || id.startsWith('.') || !isDirectory(dir)) return null;
  return { id, dir };
}

/**
 * Repoint `stage_dir` at `releases/<id>` in one rename(2): a new symlink beside it, renamed over it.
 * At every instant `stage_dir` names a complete release, the old one or the new one. The release
 * dir's mtime becomes the activation time: pruning keeps the most recently activated.
 */
export async function activateRelease(paths: StatePaths, releaseId: string, log: Log): Promise<void> {
  const releaseDir = join(resolve(paths.releasesDir), releaseId);
  if (!isDirectory(releaseDir)) throw new AgentError('internal', `cannot activate release ${releaseId}: ${releaseDir} is not a directory`);
  const parent = dirname(paths.stageDir);
  await mkdir(parent, { recursive: true });
  await moveAsideRealStageDir(paths.stageDir, log);
  const temp = `${paths.stageDir}.next-${process.pid}`;
  await unlink(temp).catch(() => undefined); // left by a run that died between symlink and rename
  await symlink(releaseDir, temp);
  await rename(temp, paths.stageDir);
  await syncDirectory(parent);
  const now = new Date();
  await utimes(releaseDir, now, now);
}

/**
 * A host migrating from the seed's `rsync && puppet apply` script has a real directory there: keep
 * it once as `<stage_dir>.pre-agent` (timestamped if that name is taken), since rename(2) cannot
 * replace a directory with a symlink. Afterwards stage_dir is a symlink and this never fires again.
 */
async function moveAsideRealStageDir(stageDir: string, log: Log): Promise<void> {
  const stats = await lstat(stageDir).catch(() => null);
  if (!stats || stats.isSymbolicLink()) return;
  let aside = `${stageDir}.pre-agent`;
  if (existsSync(aside)) aside = `${aside}.${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  await rename(stageDir, aside);
  log.warn({ stage_dir: stageDir, moved_to: aside }, 'stage_dir was a real directory (the old rsync script): moved aside, now a symlink to the active release');
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
