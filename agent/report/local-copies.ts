import { copyFile, mkdir, readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { StatePaths } from '../run/paths.js';

/**
 * Keep the newest `keepLocal` reports under state_dir/reports (report.keep_local), written when the
 * report is spooled, so a report is there to read on the host (and AGENT_REPORT names it) even while S3 is down.
 */
export async function keepLocalCopy(paths: Pick<StatePaths, 'reportsDir'>, spooledFile: string, keepLocal: number): Promise<string | null> {
  if (keepLocal <= 0) return null;
  await mkdir(paths.reportsDir, { recursive: true });
  const copy = join(paths.reportsDir, basename(spooledFile));
  await copyFile(spooledFile, copy);
  const names = (await readdir(paths.reportsDir)).filter((name) => name.endsWith('.json')).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keepLocal))) {
    await unlink(join(paths.reportsDir, name)).catch(() => undefined);
  }
  return copy;
}
