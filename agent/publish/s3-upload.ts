import { createHash } from 'node:crypto';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AgentError } from '../errors.js';
import { listKeys } from '../fleet/s3-read.js';
import { forEachConcurrently } from '../concurrency.js';
import { SYMLINK_MODE } from '../release/release-id.js';
import { parsePointer, type ReleaseManifest, type ReleasePointer } from '../release/manifest.js';
import { s3SourceKeys } from '../source/s3-keys.js';
import { packOrder } from '../source/pack.js';
import type { PublishedRelease } from './next-manifest.js';

const UPLOAD_CONCURRENCY = 8;

export interface S3Target {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

/** What the target says is current, with the stamp of its manifest; null when nothing was published there. */
export async function publishedAt(target: S3Target): Promise<PublishedRelease | null> {
  const keys = s3SourceKeys(target.prefix);
  const pointerText = await getText(target, keys.current);
  if (pointerText === null) return null;
  const pointer: ReleasePointer = parsePointer(pointerText, `s3://${target.bucket}/${keys.current}`);
  const manifestText = await getText(target, keys.manifest(pointer.release_id));
  const manifest = manifestText ? (JSON.parse(manifestText) as Partial<ReleaseManifest>) : {};
  return { ...pointer, created_at: manifest.created_at, created_by: manifest.created_by };
}

export interface UploadProgress {
  uploaded: number;
  bytes: number;
  skipped: number;
}

/**
 * Upload a release so that no agent can see a pointer to a half-uploaded release: the objects the
 * bucket lacks (content-addressed: one object per digest, whatever paths share it), then the manifest
 * and its signature, then current.json last. Each file is read once and re-hashed: a file changed
 * since it was indexed fails the publish instead of uploading content its digest does not name.
 */
export async function uploadRelease(
  target: S3Target,
  dir: string,
  manifest: ReleaseManifest,
  signed: { manifest: string; signature: string },
  onProgress: (progress: UploadProgress, total: number) => void,
  /** false for a rollout's candidate (SPEC §9): current.json keeps naming the previous release. */
  options: { pointer: boolean } = { pointer: true },
): Promise<UploadProgress> {
  const keys = s3SourceKeys(target.prefix);
  const present = new Set((await listKeys(target.s3, target.bucket, keys.object(''))).map((key) => key.slice(key.lastIndexOf('/') + 1)));
  const byDigest = new Map<string, string>();
  for (const [path, file] of Object.entries(manifest.files)) if (!byDigest.has(file.sha256)) byDigest.set(file.sha256, path);
  const missing = [...byDigest].filter(([sha256]) => !present.has(sha256));
  const progress: UploadProgress = { uploaded: 0, bytes: 0, skipped: byDigest.size - missing.length };
  await forEachConcurrently(missing, UPLOAD_CONCURRENCY, async ([sha256, path]) => {
    const body = await fileContent(dir, path, manifest.files[path]!.mode);
    if (createHash('sha256').update(body).digest('hex') !== sha256) {
      throw new AgentError('internal', `${join(dir, path)} changed while publishing: run publish again`);
    }
    await put(target, keys.object(sha256), body, 'application/octet-stream');
    progress.uploaded++;
    progress.bytes += body.length;
    onProgress(progress, missing.length);
  });
  await put(target, keys.pack(manifest.release_id), await buildPack(dir, manifest), 'application/gzip');
  await put(target, keys.manifest(manifest.release_id), signed.manifest, 'application/json');
  await put(target, keys.signature(manifest.release_id), signed.signature, 'text/plain');
  if (!options.pointer) return progress;
  await put(target, keys.current, `${JSON.stringify({ release_id: manifest.release_id, serial: manifest.serial } satisfies ReleasePointer)}\n`, 'application/json');
  return progress;
}

/**
 * The release's pack (source/pack.ts): every distinct object in digest order, gzip'd, for hosts with
 * an empty cache. Uploaded before the manifest, so a host that sees the manifest finds the pack too.
 * Each file is re-hashed as it is read, as for the single objects.
 */
async function buildPack(dir: string, manifest: ReleaseManifest): Promise<Buffer> {
  const pathOf = new Map<string, string>();
  for (const [path, file] of Object.entries(manifest.files)) if (!pathOf.has(file.sha256)) pathOf.set(file.sha256, path);
  const parts: Buffer[] = [];
  for (const { sha256 } of packOrder(manifest)) {
    const path = pathOf.get(sha256)!;
    const body = await fileContent(dir, path, manifest.files[path]!.mode);
    if (createHash('sha256').update(body).digest('hex') !== sha256) {
      throw new AgentError('internal', `${join(dir, path)} changed while publishing: run publish again`);
    }
    parts.push(body);
  }
  return promisify(gzip)(Buffer.concat(parts));
}

/** A symlink's content in a release is its target (SPEC §5). */
function fileContent(dir: string, path: string, mode: string): Promise<Buffer> {
  return mode === SYMLINK_MODE ? readlink(join(dir, path)).then((target) => Buffer.from(target)) : readFile(join(dir, path));
}

async function put(target: S3Target, key: string, body: Buffer | string, contentType: string): Promise<void> {
  await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, ContentType: contentType }));
}

async function getText(target: S3Target, key: string): Promise<string | null> {
  try {
    const object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
}
