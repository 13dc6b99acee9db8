import { readFile, readdir, rename, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StatePaths } from '../run/paths.js';
import type { Config } from '../config/schema.js';
import type { Log } from '../adapters/log.js';
import type { Report } from './types.js';
import { BAD_KEPT, badEntriesToRemove, listSpool, parseSpooledReport, type SpoolEntry } from './spool.js';
import { latestKey, reportKey } from './keys.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { describeS3Error } from '../adapters/s3.js';
import { describeError } from '../errors.js';

// register.ts imported it from here before it moved next to the client

export interface Delivery {
  delivered: number;
  /** Entries still in the spool, the one that failed included. */
  remaining: number;
  /** Why delivery stopped; absent when the spool was emptied. */
  error?: string;
}

/** What state_dir/latest-uploaded.json remembers of the report last written to latest/. */
export interface LatestMarker {
  instance_id?: string; // absent in markers written before it was recorded
  started_at: string;
  run_id: string;
}

/**
 * Pure: may `report` overwrite latest/? Only when it is not older than the one there (SPEC §4: a late
 * spooled report never hides a newer one). A marker of another instance id (the config's literal id
 * changed) says nothing about this id's latest/. Equal times replace: a retry of the same report.
 */
export function shouldReplaceLatest(marker: LatestMarker | undefined, report: Pick<Report, 'started_at' | 'instance'>): boolean {
  if (!marker || (marker.instance_id !== undefined && marker.instance_id !== report.instance.id)) return true;
  const recorded = Date.parse(marker.started_at);
  return Number.isNaN(recorded) || Date.parse(report.started_at) >= recorded;
}

type Location = Pick<Config['report'], 'bucket' | 'prefix'>;
type Outcome = 'delivered' | 'skipped' | { error: string };

/**
 * Upload spooled reports oldest first: PUT reports/<...>, then latest/<id> unless a newer report is
 * already there, then delete the entry. An entry leaves the spool only after S3 acknowledged it, and
 * keys come from the report, so a retried upload overwrites itself instead of duplicating. Stops at
 * the first failure (S3 is probably down; later entries would fail too, and order must hold).
 * Never throws: a delivery problem must not turn the run itself into an error.
 * Local copies are not made here: keepLocalCopy runs at spool time, so they exist while S3 is down.
 */
export async function deliverSpool(deps: { s3: S3Client; log: Log }, location: Location, paths: Pick<StatePaths, 'spoolDir' | 'latestMarkerFile'>): Promise<Delivery> {
  let entries: SpoolEntry[];
  try {
    entries = await listSpool(paths);
  } catch (error) {
    return { delivered: 0, remaining: 0, error: `cannot read the spool ${paths.spoolDir}: ${describeError(error)}` };
  }
  const marker = { current: await readJsonFile<LatestMarker>(paths.latestMarkerFile) };
  let delivered = 0;
  for (const [index, entry] of entries.entries()) {
    const outcome = await deliverEntry(deps, location, paths, entry, marker).catch((error: unknown) => ({ error: describeError(error) }));
    if (outcome === 'delivered') delivered += 1;
    else if (outcome !== 'skipped') return { delivered, remaining: entries.length - index, error: outcome.error };
  }
  return { delivered, remaining: 0 };
}

async function deliverEntry(
  deps: { s3: S3Client; log: Log },
  location: Location,
  paths: Pick<StatePaths, 'spoolDir' | 'latestMarkerFile'>,
  entry: SpoolEntry,
  marker: { current: LatestMarker | undefined },
): Promise<Outcome> {
  const bytes = await readFile(entry.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined; // gone since the listing: nothing left to deliver
    throw error;
  });
  if (!bytes) return 'skipped';
  const parsed = parseSpooledReport(bytes);
  if ('invalid' in parsed) {
    const pruned = await quarantine(paths.spoolDir, entry);
    deps.log.error({ file: entry.name, reason: parsed.invalid }, 'spooled report is unreadable: moved to spool/bad, not retried');
    if (pruned.length > 0) deps.log.warn({ removed: pruned.length, oldest_removed: pruned[0], kept: BAD_KEPT }, 'spool/bad full: oldest unreadable reports removed');
    return 'skipped';
  }
  const { report } = parsed;
  const failed = (await put(deps.s3, location.bucket, reportKey(location.prefix, report), bytes)) ?? (await putLatest(deps.s3, location, paths, report, bytes, marker));
  if (failed) return failed;
  await unlink(entry.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  deps.log.debug({ file: entry.name, run_id: report.run_id }, 'report delivered');
  return 'delivered';
}

/** latest/ only moves forward (SPEC §4); the local marker remembers what it holds, to spare a GET. */
async function putLatest(
  s3: S3Client,
  location: Location,
  paths: Pick<StatePaths, 'latestMarkerFile'>,
  report: Report,
  bytes: Uint8Array,
  marker: { current: LatestMarker | undefined },
): Promise<{ error: string } | undefined> {
  if (!shouldReplaceLatest(marker.current, report)) return undefined;
  const failed = await put(s3, location.bucket, latestKey(location.prefix, report.instance.id), bytes);
  if (failed) return failed;
  const next: LatestMarker = { instance_id: report.instance.id, started_at: report.started_at, run_id: report.run_id };
  await writeFileAtomic(paths.latestMarkerFile, `${JSON.stringify(next)}\n`);
  marker.current = next;
  return undefined;
}

/** PUT the exact bytes; an S3 failure comes back as data, naming the object. */
async function put(s3: S3Client, bucket: string, key: string, body: Uint8Array): Promise<{ error: string } | undefined> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
    return undefined;
  } catch (error) {
    return { error: `s3://${bucket}/${key}: ${describeS3Error(error)}` };
  }
}

/**
 * An entry that can never be delivered must not block the ones behind it, nor be lost silently; and
 * spool/bad is bounded like the spool, so a host that keeps writing broken reports cannot fill its
 * disk: the newest BAD_KEPT stay for a human to look at (each was logged with its reason). Returns
 * the names removed.
 */
async function quarantine(spoolDir: string, entry: SpoolEntry): Promise<string[]> {
  const bad = join(spoolDir, 'bad');
  await mkdir(bad, { recursive: true });
  await rename(entry.path, join(bad, entry.name));
  const pruned = badEntriesToRemove(await readdir(bad), BAD_KEPT);
  for (const name of pruned) await unlink(join(bad, name)).catch(() => undefined);
  return pruned;
}
