import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StatePaths } from '../run/paths.js';
import type { Report } from './types.js';
import type { Log } from '../adapters/log.js';
import { writeFileAtomic } from '../adapters/files.js';
import { compactTimestamp, isIsoInstant } from './keys.js';

/**
 * Reports waiting for S3 (SPEC §1.6), one file each under state_dir/spool, named
 * `<YYYYMMDDTHHMMSSZ>-<run_id>.json` so that name order is age order. A report is written here
 * (fsync, then rename) before any upload and deleted only after S3 acknowledged it (deliver.ts).
 * writeFileAtomic's temp files start with '.', and `bad/` holds unreadable entries: neither is listed.
 */
export interface SpoolEntry {
  name: string;
  path: string;
}

const ENTRY_NAME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-.+\.json$/;

export function spoolFileName(report: Pick<Report, 'started_at' | 'run_id'>): string {
  return `${compactTimestamp(report.started_at)}-${report.run_id}.json`;
}

/** The exact bytes that are spooled, kept locally and uploaded: one serialization, byte for byte. */
export function serializeReport(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** When the entry's run started, read from its name (so a corrupt file still has an age), or null. */
export function spoolEntryTime(name: string): string | null {
  const match = ENTRY_NAME.exec(name);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match;
  return `${year}-${month}-${day}T${hour}:${minute}:${second}Z`;
}

/**
 * The report in a spooled file's bytes, or why it cannot be one. Only what the keys and latest/ need
 * is checked: the rest goes out as it is, since the bytes in S3 must be the bytes that were spooled.
 */
export function parseSpooledReport(bytes: Uint8Array): { report: Report } | { invalid: string } {
  let parsed: Partial<Report> | null;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<Report> | null;
  } catch (error) {
    return { invalid: `not JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null) return { invalid: 'not a JSON object' };
  if (typeof parsed.run_id !== 'string' || parsed.run_id === '') return { invalid: 'no run_id' };
  if (typeof parsed.instance?.id !== 'string' || parsed.instance.id === '') return { invalid: 'no instance.id' };
  if (typeof parsed.started_at !== 'string' || !isIsoInstant(parsed.started_at)) return { invalid: 'no valid started_at' };
  return { report: parsed as Report };
}

/** Entries oldest first; an absent spool directory is an empty spool. */
export async function listSpool(paths: Pick<StatePaths, 'spoolDir'>): Promise<SpoolEntry[]> {
  let names: string[];
  try {
    names = await readdir(paths.spoolDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .sort()
    .map((name) => ({ name, path: join(paths.spoolDir, name) }));
}

/**
 * Spool `report`. Past `spoolMax` entries the oldest undelivered reports are deleted, logged as an
 * error and counted: in the spooled report itself (`spool_dropped`, so the fleet sees the loss) and in
 * `dropped` (the caller adds it to status.json and the metrics). The report just written is always
 * kept, even with spool_max 0: it is the one this run is about to deliver.
 */
export async function spoolReport(
  paths: Pick<StatePaths, 'spoolDir'>,
  report: Report,
  spoolMax: number,
  log: Log,
): Promise<{ file: string; dropped: number; report: Report }> {
  const file = join(paths.spoolDir, spoolFileName(report));
  const older = (await listSpool(paths)).filter((entry) => entry.path !== file);
  const excess = older.slice(0, Math.max(0, older.length + 1 - Math.max(spoolMax, 1)));
  const spooled = excess.length > 0 ? { ...report, spool_dropped: excess.length } : report;
  await writeFileAtomic(file, serializeReport(spooled));
  for (const entry of excess) await unlink(entry.path).catch(() => undefined);
  if (excess.length > 0) {
    log.error(
      { dropped: excess.length, spool_max: spoolMax, oldest_dropped: excess[0]?.name, newest_dropped: excess.at(-1)?.name },
      'report spool full: oldest undelivered reports dropped',
    );
  }
  return { file, dropped: excess.length, report: spooled };
}

/** Unreadable reports kept in spool/bad: enough to see what went wrong, never a disk's worth. */
export const BAD_KEPT = 20;

/** Which spool/bad entries go (pure): all but the newest `keep`; names sort by age like the spool's. */
export function badEntriesToRemove(names: readonly string[], keep: number): string[] {
  const entries = names.filter((name) => !name.startsWith('.')).sort();
  return entries.slice(0, Math.max(0, entries.length - keep));
}

/** For `agent status` and the metrics: how many reports wait, and since when. */
export async function spoolStats(paths: Pick<StatePaths, 'spoolDir'>): Promise<{ count: number; oldest_at: string | null }> {
  const entries = await listSpool(paths);
  const oldest = entries[0];
  return { count: entries.length, oldest_at: oldest ? spoolEntryTime(oldest.name) : null };
}
