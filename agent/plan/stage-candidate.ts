import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../deps.js';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease } from '../source/types.js';
import { AgentError } from '../errors.js';
import { s3ReleaseReader } from '../source/s3-release-reader.js';
import { downloadMissing } from '../source/s3-source.js';
import { assembleVerifiedTree, trustPolicy } from '../source/staged-release.js';
import { short } from '../release/manifest.js';
import type { PlanPaths } from './paths.js';

/**
 * Stage a plan's candidate beside the active release (SPEC §10): the same trust and verification as
 * any release (signature, manifest, every file), objects from the shared cache, but the tree lands in
 * `state_dir/plans/trees/<release_id>`, which activation and pruning never look at. A candidate with
 * a lower serial than the active release is fine here: nothing is applied, and a plan of a rollback
 * is a fair question. Returns the tree's directory; a tree staged earlier is reused as it is.
 */
export async function stageCandidate(
  deps: Pick<Deps, 'log'>,
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
  const reader = s3ReleaseReader(s3, config.source);
  const policy = await trustPolicy(config, active, true);
  const fetched = await reader.trustedManifest(releaseId, policy, 'the plan names its candidate');
  const { manifest } = fetched;
  const downloaded = await downloadMissing(paths.objectCacheDir, manifest, reader.objectOpener(manifest), { open: reader.packOpener(manifest), log: deps.log });
  const bytes = reader.bytes() + downloaded;
  await mkdir(plan.treesDir, { recursive: true });
  const staging = join(plan.treesDir, `.staging-${randomBytes(6).toString('hex')}`);
  try {
    const { index } = await assembleVerifiedTree(config, paths, active, staging, fetched, policy);
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
