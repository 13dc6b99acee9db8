import { readFile, readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import { writeFileAtomic } from '../adapters/files.js';

/**
 * The newest `report.keep_local` reports under state_dir/reports, for whoever is on the host.
 *
 * Written at spool time, from the spooled file, before any upload: the copy exists while S3 is down,
 * and `AGENT_REPORT` (after_run hooks) names it. Delivery therefore never touches this directory.
 * Same name and bytes as the spool entry, so names sort oldest first here too.
 */
export type LocalReport = string | { name: string; bytes: string | Uint8Array };

/** Copy `report` (a spooled file's path, or a name and its bytes) in, prune, and return the copy's path. */
export async function keepLocalCopy(
  paths: Pick<StatePaths, 'reportsDir'>,
  report: LocalReport,
  keepLocal: number,
): Promise<string | null> {
  if (keepLocal <= 0) {
    // keep_local: 0 means none, including any left from when the setting was higher
    await pruneLocalCopies(paths, 0);
    return null;
  }
  const name = typeof report === 'string' ? basename(report) : report.name;
  const bytes = typeof report === 'string' ? await readFile(report) : report.bytes;
  const copy = join(paths.reportsDir, name);
  // atomic like the spool: a hook or an operator never reads half a report
  await writeFileAtomic(copy, bytes);
  await pruneLocalCopies(paths, keepLocal, name);
  return copy;
}

/** Delete all but the newest `keep` copies; `spare` (the copy just written) survives even if its clock was behind. */
export async function pruneLocalCopies(paths: Pick<StatePaths, 'reportsDir'>, keep: number, spare?: string): Promise<number> {
  const names = await listLocalCopies(paths);
  const others = names.filter((name) => name !== spare);
  const room = Math.max(0, keep - (spare && names.includes(spare) ? 1 : 0));
  const doomed = others.slice(0, Math.max(0, others.length - room));
  for (const name of doomed) await unlink(join(paths.reportsDir, name)).catch(() => undefined);
  return doomed.length;
}

/** Report copies, oldest first (temp files of writeFileAtomic start with '.'). */
export async function listLocalCopies(paths: Pick<StatePaths, 'reportsDir'>): Promise<string[]> {
  const names = await readdir(paths.reportsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
}
