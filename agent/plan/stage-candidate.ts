import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease } from '../source/types.js';
import { AgentError } from '../errors.js';
import { s3SourceKeys } from '../source/s3-keys.js';
import { httpStatus, isMissing, unreachable } from '../source/s3-poll.js';
import { downloadMissing } from '../source/s3-source.js';
import { assembleVerifiedTree, trustPolicy } from '../source/staged-release.js';
import { short } from '../release/manifest.js';
import { trustManifest } from '../release/verify.js';
import type { PlanPaths } from './paths.js';

/**
 * Stage a plan's candidate beside the active release (SPEC §10): the same trust and verification as
 * any release (signature, manifest, every file), objects from the shared cache, but the tree lands in
 * `state_dir/plans/trees/<release_id>`, which activation and pruning never look at. A candidate with
 * a lower serial than the active release is fine here: nothing is applied, and a plan of a rollback
 * is a fair question. Returns the tree's directory; a tree staged earlier is reused as it is.
 */
export async function stageCandidate(
  config: Readonly<Config>,
  paths: StatePaths,
  plan: PlanPaths,
  active: ActiveRelease | null,
  releaseId: string,
  s3: S3Client,
): Promise<{ dir: string; bytes: number; reused: boolean }> {
  const dir = join(plan.treesDir, releaseId);
  await removeOtherTrees(plan.treesDir, releaseId);
  if (existsSync(dir)) return { dir, bytes: 0, reused: true };
  const bucket = config.source.bucket ?? '';
  const keys = s3SourceKeys(config.source.prefix);
  const where = (key: string) => `s3://${bucket}/${key}`;
  const get = (key: string) => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const getBytes = async (key: string): Promise<Buffer | null> => {
    try {
      return Buffer.from(await (await get(key)).Body!.transformToByteArray());
    } catch (error) {
      if (isMissing(error) || httpStatus(error) === 403) return null;
      throw unreachable(where(key), error);
    }
  };
  const manifestBytes = await getBytes(keys.manifest(releaseId));
  if (!manifestBytes) throw new AgentError('source_rejected', `the plan's candidate release ${short(releaseId)} is not in the source: ${where(keys.manifest(releaseId))} is missing (or unreadable)`);
  const signature = await getBytes(keys.signature(releaseId));
  const policy = { ...(await trustPolicy(config, active, true)) };
  const manifest = trustManifest({ bytes: manifestBytes, signature: signature?.toString('utf8') ?? null, where: where(keys.manifest(releaseId)) }, policy)!;
  if (manifest.release_id !== releaseId) throw new AgentError('source_rejected', `${where(keys.manifest(releaseId))} describes release ${short(manifest.release_id)}, not ${short(releaseId)}`);
  const bytes = await downloadMissing(paths.objectCacheDir, manifest, async (sha256) => {
    try {
      return (await get(keys.object(sha256))).Body as Readable;
    } catch (error) {
      if (isMissing(error) || httpStatus(error) === 403) throw new AgentError('source_rejected', `release ${short(releaseId)} lists ${where(keys.object(sha256))}, which is missing (or unreadable)`);
      throw unreachable(where(keys.object(sha256)), error);
    }
  });
  await mkdir(plan.treesDir, { recursive: true });
  const staging = join(plan.treesDir, `.staging-${randomBytes(6).toString('hex')}`);
  try {
    const { index } = await assembleVerifiedTree(config, paths, active, staging, { manifest, manifestBytes, signature }, policy);
    if (index.releaseId !== releaseId) throw new AgentError('source_rejected', `the staged candidate hashes to ${short(index.releaseId)}, not ${short(releaseId)}`);
    await rename(staging, dir);
    return { dir, bytes, reused: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** One candidate at a time: trees of plans that are over (and staging leftovers of a killed run) go. */
export async function removeOtherTrees(treesDir: string, keep: string | null): Promise<void> {
  const names = await readdir(treesDir).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry !== keep)) await rm(join(treesDir, name), { recursive: true, force: true, maxRetries: 2 });
}
