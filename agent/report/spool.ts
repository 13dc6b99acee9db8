import { readdir, unlink, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { Report } from './types.js';
import type { Log } from '../adapters/log.js';
import { writeFileAtomic } from '../adapters/files.js';
import { compactTimestamp } from './keys.js';

/**
 * Reports waiting for S3, one file each, named so that name order is age order. A report is written
 * here (fsync + rename) before any upload, and deleted only after S3 acknowledged it (SPEC §1.6).
 */
export interface SpoolEntry {
  name: string;
  path: string;
}

export function spoolFileName(report: Pick<Report, 'started_at' | 'run_id'>): string {
  return `${compactTimestamp(report.started_at)}-${report.run_id}.json`;
}

/** The exact bytes that go to S3: whatever is spooled is what is uploaded, byte for byte. */
export function serializeReport(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function listSpool(paths: Pick<StatePaths, 'spoolDir'>): Promise<SpoolEntry[]> {
  const names = await readdir(paths.spoolDir).catch(() => [] as string[]);
  return names
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .sort()
    .map((name) => ({ name, path: join(paths.spoolDir, name) }));
}

/** How many reports the spool would drop to make room for one more (report.spool_max). */
export async function overflowCount(paths: Pick<StatePaths, 'spoolDir'>, spoolMax: number): Promise<number> {
  return Math.max(0, (await listSpool(paths)).length + 1 - Math.max(spoolMax, 1));
}

/** Spool `report`; past `spoolMax` the oldest undelivered reports are dropped, loudly. */
export async function spoolReport(
  paths: Pick<StatePaths, 'spoolDir'>,
  report: Report,
  spoolMax: number,
  log: Log,
): Promise<{ file: string; dropped: number }> {
  const file = join(paths.spoolDir, spoolFileName(report));
  await writeFileAtomic(file, serializeReport(report));
  const entries = await listSpool(paths);
  const excess = entries.filter((entry) => entry.path !== file).slice(0, Math.max(0, entries.length - Math.max(spoolMax, 1)));
  for (const entry of excess) await unlink(entry.path).catch(() => undefined);
  if (excess.length > 0) {
    log.error({ dropped: excess.length, spool_max: spoolMax, oldest_dropped: excess[0]?.name }, 'report spool full: oldest undelivered reports dropped');
  }
  return { file, dropped: excess.length };
}

export async function spoolStats(paths: Pick<StatePaths, 'spoolDir'>): Promise<{ count: number; oldest_at: string | null }> {
  const entries = await listSpool(paths);
  const oldest = entries[0];
  if (!oldest) return { count: 0, oldest_at: null };
  const startedAt = await readFile(oldest.path, 'utf8')
    .then((text) => (JSON.parse(text) as Report).started_at)
    .catch(() => null);
  return { count: entries.length, oldest_at: startedAt };
}
