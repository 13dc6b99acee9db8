import { readFile, rename, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StatePaths } from '../run/paths.js';
import type { Config } from '../config/schema.js';
import type { Log } from '../adapters/log.js';
import type { Report } from './types.js';
import { listSpool } from './spool.js';
import { latestKey, reportKey } from './keys.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { describeError } from '../errors.js';

export interface Delivery {
  delivered: number;
  remaining: number;
  error?: string;
}

/**
 * Upload spooled reports oldest first; each leaves the spool only after S3 acknowledged it. Keys are
 * derived from the report, so a retried upload overwrites itself instead of duplicating. Stops at the
 * first failure (S3 is probably down) and says so; never throws for S3's sake.
 */
export async function deliverSpool(
  deps: { s3: S3Client; log: Log },
  report: Pick<Config['report'], 'bucket' | 'prefix'>,
  paths: Pick<StatePaths, 'spoolDir' | 'latestMarkerFile'>,
): Promise<Delivery> {
  const entries = await listSpool(paths);
  let delivered = 0;
  for (const [index, entry] of entries.entries()) {
    const bytes = await readFile(entry.path);
    let parsed: Report;
    try {
      parsed = JSON.parse(bytes.toString('utf8')) as Report;
      if (!parsed.run_id || !parsed.started_at || !parsed.instance?.id) throw new Error('not an agent report');
    } catch (error) {
      await quarantine(paths.spoolDir, entry.name, entry.path);
      deps.log.error({ file: entry.name, err: describeError(error) }, 'spooled report is unreadable: moved to spool/bad');
      continue;
    }
    try {
      await put(deps.s3, report.bucket, reportKey(report.prefix, parsed), bytes);
      if (await isNewestLatest(paths.latestMarkerFile, parsed.started_at)) {
        await put(deps.s3, report.bucket, latestKey(report.prefix, parsed.instance.id), bytes);
        await writeFileAtomic(paths.latestMarkerFile, JSON.stringify({ started_at: parsed.started_at, run_id: parsed.run_id }));
      }
    } catch (error) {
      return { delivered, remaining: entries.length - index, error: describeS3Error(error) };
    }
    await unlink(entry.path);
    delivered += 1;
  }
  return { delivered, remaining: 0 };
}

/** A late spooled report never overwrites a newer latest/ (SPEC §4). */
async function isNewestLatest(markerFile: string, startedAt: string): Promise<boolean> {
  const marker = await readJsonFile<{ started_at: string }>(markerFile);
  return !marker || marker.started_at <= startedAt;
}

function put(s3: S3Client, bucket: string, key: string, body: Buffer) {
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
}

async function quarantine(spoolDir: string, name: string, path: string): Promise<void> {
  await mkdir(join(spoolDir, 'bad'), { recursive: true });
  await rename(path, join(spoolDir, 'bad', name));
}

/** One line, without request ids or credentials: the error's name and message. */
export function describeS3Error(error: unknown): string {
  const err = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode ? ` (HTTP ${err.$metadata.httpStatusCode})` : '';
  const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${name}${err.message ?? err.code ?? describeError(error)}${status}`;
}
