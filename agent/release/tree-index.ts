import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { AgentError } from '../errors.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import type { StatePaths } from '../run/paths.js';
import { computeReleaseId, formatMode, isReleaseMetadata, SYMLINK_MODE } from './release-id.js';

/** Every file of a release with its digest; dev + inode let the next release skip re-hashing hard links. */
export interface IndexedFile {
  sha256: string;
  size: number;
  mode: string;
  dev: number;
  ino: number;
  mtimeMs: number;
}

export interface TreeIndex {
  releaseId: string;
  /** Regular files and symlinks (`.release/` included: it is part of the synced tree, not of the id). */
  files: Record<string, IndexedFile>;
}

/**
 * Walk a staged tree (never following links) and hash its files. A file whose (dev, ino, size, mtime)
 * match the previous release's index is a hard link rsync made with --link-dest: already verified,
 * so its digest is reused (SPEC §1.3: cost grows with what changed, not with the tree).
 * Refuses what has no place in a Puppet tree: devices, fifos, sockets, links out of the tree.
 * The walk's metadata calls are synchronous: one thread-pool round trip per file would cost more than
 * the syscall itself (seconds at 10,000 files), and a run is a process of its own, nothing else waits.
 */
export async function indexTree(root: string, previous?: TreeIndex | readonly (TreeIndex | undefined)[]): Promise<TreeIndex> {
  const files: Record<string, IndexedFile> = {};
  const known = (Array.isArray(previous) ? previous : [previous]).filter((index): index is TreeIndex => index !== undefined);
  const walk = async (relativeDir: string): Promise<void> => {
    for (const name of readdirSync(join(root, relativeDir))) {
      const relative = relativeDir ? `${relativeDir}/${name}` : name;
      const stats = lstatSync(join(root, relative));
      if (stats.isDirectory()) await walk(relative);
      else files[relative] = await indexEntry(root, relative, stats, sameFile(known, relative, stats));
    }
  };
  await walk('');
  const entries = Object.entries(files).map(([path, file]) => ({ path, sha256: file.sha256, mode: file.mode }));
  return { releaseId: computeReleaseId(entries), files };
}

/** The indexed entry at `relative` that is this very inode (a hard link or an untouched recycled file), if any. */
function sameFile(indexes: readonly TreeIndex[], relative: string, stats: Stats): IndexedFile | undefined {
  for (const index of indexes) {
    const known = index.files[relative];
    if (known && known.dev === stats.dev && known.ino === stats.ino) return known;
  }
  return undefined;
}

async function indexEntry(root: string, relative: string, stats: Stats, known: IndexedFile | undefined): Promise<IndexedFile> {
  const identity = { dev: stats.dev, ino: stats.ino, mtimeMs: stats.mtimeMs };
  if (stats.isFile()) {
    const sameInode = known && known.dev === stats.dev && known.ino === stats.ino;
    const reusable = sameInode && known.size === stats.size && known.mtimeMs === stats.mtimeMs;
    const sha256 = reusable ? known.sha256 : stats.size <= SMALL_FILE ? hashSmallFile(join(root, relative)) : await hashFile(join(root, relative));
    return { sha256, size: stats.size, mode: formatMode(stats.mode), ...identity };
  }
  if (stats.isSymbolicLink()) {
    const target = readlinkSync(join(root, relative));
    assertInsideTree(relative, target);
    const sha256 = createHash('sha256').update(target).digest('hex');
    return { sha256, size: Buffer.byteLength(target), mode: SYMLINK_MODE, ...identity };
  }
  throw new AgentError('source_rejected', `the tree holds "${relative}", which is not a regular file, directory or symlink (devices, fifos and sockets are refused)`);
}

/** rsync --safe-links already drops links that leave the tree; this holds for trees from any source. */
function assertInsideTree(relative: string, target: string): void {
  const resolved = posix.normalize(posix.join(posix.dirname(relative), target));
  if (posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
    throw new AgentError('source_rejected', `the tree's symlink "${relative}" points outside it (to "${target}")`);
  }
}

/** Files up to this size are read and hashed in one synchronous call: a stream per file cost ~0.3 ms of set-up each. */
const SMALL_FILE = 1024 * 1024;

function hashSmallFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Files added, removed, or changed in content or mode between two releases (symlinks included,
 * `.release/` not: it describes the release): what `files_changed` reports. rsync's own count misses
 * deletions and chmods.
 */
export function countChangedFiles(previous: TreeIndex, next: TreeIndex): number {
  const paths = new Set([...Object.keys(previous.files), ...Object.keys(next.files)]);
  let changed = 0;
  for (const path of paths) {
    if (isReleaseMetadata(path)) continue;
    const before = previous.files[path];
    const after = next.files[path];
    if (!before || !after || before.sha256 !== after.sha256 || before.mode !== after.mode) changed++;
  }
  return changed;
}

/**
 * The same index with fresh (dev, ino, size, mtime), digests kept. Only for a tree whose contents
 * the caller knows are unchanged (it changed times itself), or hashes would be trusted wrongly.
 */
export async function restatIndex(root: string, index: TreeIndex): Promise<TreeIndex> {
  const files: Record<string, IndexedFile> = {};
  for (const [path, file] of Object.entries(index.files)) {
    const stats = await lstat(join(root, path));
    files[path] = { ...file, size: stats.size, dev: stats.dev, ino: stats.ino, mtimeMs: stats.mtimeMs };
  }
  return { releaseId: index.releaseId, files };
}

/** Each release's index lives beside it, `releases/<id>.index.json`, outside the tree rsync compares. */
export function indexPath(paths: Pick<StatePaths, 'releasesDir'>, releaseId: string): string {
  return join(paths.releasesDir, `${releaseId}.index.json`);
}

/** The stored index, or undefined when missing or unreadable: the caller then hashes everything again. */
export async function readTreeIndex(paths: Pick<StatePaths, 'releasesDir'>, releaseId: string): Promise<TreeIndex | undefined> {
  const index = await readJsonFile<TreeIndex>(indexPath(paths, releaseId));
  return index && typeof index.files === 'object' && index.files !== null ? index : undefined;
}

export function writeTreeIndex(paths: Pick<StatePaths, 'releasesDir'>, index: TreeIndex): Promise<void> {
  return writeFileAtomic(indexPath(paths, index.releaseId), JSON.stringify(index));
}
