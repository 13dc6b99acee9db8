import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix, isAbsolute } from 'node:path';
import { AgentError } from '../errors.js';
import { computeReleaseId, formatMode } from './release-id.js';

/** Every file of a release with its digest; the inode lets the next release skip re-hashing hard links. */
export interface IndexedFile {
  sha256: string;
  size: number;
  mode: string;
  ino: number;
  mtimeMs: number;
}

export interface TreeIndex {
  releaseId: string;
  files: Record<string, IndexedFile>;
}

export const SYMLINK_MODE = '120000';

/**
 * Walk a staged tree (never following links) and hash its files. A file whose inode, size and mtime
 * match the previous release's index is a hard link rsync made with --link-dest: already verified,
 * so its digest is reused (SPEC §1.3: cost grows with what changed, not with the tree).
 * Refuses what has no place in a Puppet tree: devices, fifos, sockets, links out of the tree.
 */
export async function indexTree(root: string, previous?: TreeIndex): Promise<TreeIndex> {
  const files: Record<string, IndexedFile> = {};
  const walk = async (relativeDir: string): Promise<void> => {
    const entries = await readdir(join(root, relativeDir), { withFileTypes: true });
    for (const entry of entries) {
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      const absolute = join(root, relative);
      const stats = await lstat(absolute);
      if (stats.isDirectory()) {
        await walk(relative);
      } else if (stats.isFile()) {
        const known = previous?.files[relative];
        const reusable = known && known.ino === stats.ino && known.size === stats.size && known.mtimeMs === stats.mtimeMs;
        const sha256 = reusable ? known.sha256 : await hashFile(absolute);
        files[relative] = { sha256, size: stats.size, mode: formatMode(stats.mode), ino: stats.ino, mtimeMs: stats.mtimeMs };
      } else if (stats.isSymbolicLink()) {
        const target = await readlink(absolute);
        assertInsideTree(relative, target);
        const sha256 = createHash('sha256').update(target).digest('hex');
        files[relative] = { sha256, size: target.length, mode: SYMLINK_MODE, ino: stats.ino, mtimeMs: stats.mtimeMs };
      } else {
        throw new AgentError('source_rejected', `the tree holds "${relative}", which is not a regular file, directory or symlink`);
      }
    }
  };
  await walk('');
  const entries = Object.entries(files).map(([path, file]) => ({ path, sha256: file.sha256, mode: file.mode }));
  return { releaseId: computeReleaseId(entries), files };
}

/** rsync --safe-links drops links that leave the tree; this holds for trees from any source. */
function assertInsideTree(relative: string, target: string): void {
  const resolved = posix.normalize(posix.join(posix.dirname(relative), target));
  if (isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
    throw new AgentError('source_rejected', `the tree's symlink "${relative}" points outside it (to "${target}")`);
  }
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
