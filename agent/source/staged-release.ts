import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease } from './types.js';
import { AgentError } from '../errors.js';
import { indexTree, readTreeIndex, writeTreeIndex, type TreeIndex } from '../release/tree-index.js';
import { assembleTree } from './object-cache.js';
import type { FetchedManifest } from './s3-release-reader.js';
import { MANIFEST_FILE, SIGNATURE_FILE, type ReleaseManifest } from '../release/manifest.js';
import { checkTreeMatchesManifest, trustManifest, type OfferedManifest, type TrustPolicy } from '../release/verify.js';
import { readTrustedKeys } from '../release/key-files.js';
import { syncDirectory } from '../adapters/files.js';

/**
 * What every source shares once a tree is on disk: verify it (SPEC §1.3) and keep it as
 * `releases/<id>`. A tree that fails here is never activated; the caller removes it.
 */

/** The trust policy of one run: the configured keys and what is active now. */
export async function trustPolicy(config: Readonly<Config>, active: ActiveRelease | null, allowDowngrade: boolean): Promise<TrustPolicy> {
  const keys = await readTrustedKeys(config.verify.public_keys);
  return { keys, active: active ? { id: active.id, serial: await releaseSerial(active.dir) } : null, allowDowngrade };
}

/** The serial of a kept release (verified when it was activated), or null for an unsigned one. */
async function releaseSerial(dir: string): Promise<number | null> {
  try {
    const serial = (JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Partial<ReleaseManifest>).serial;
    return Number.isSafeInteger(serial) ? (serial as number) : null;
  } catch {
    return null;
  }
}

/** `.release/manifest.json` and `.release/manifest.sig` of a tree, whichever exist. */
export async function readOfferedManifest(treeDir: string): Promise<OfferedManifest> {
  const read = (file: string) => readFile(join(treeDir, file)).catch(() => null);
  const [bytes, signature] = await Promise.all([read(MANIFEST_FILE), read(SIGNATURE_FILE)]);
  return { bytes, signature: signature ? signature.toString('utf8') : null, where: MANIFEST_FILE };
}

export interface VerifiedTree {
  index: TreeIndex;
  manifest: ReleaseManifest | null;
}

/**
 * Hash the staged tree (reusing the digests of files hard-linked from `previous`), then: the
 * manifest is trusted (signature, serial), the tree is exactly the manifest's files, and the Puppet
 * entry point is there. The id is the tree's own, so a manifest can never name a different tree.
 */
export async function verifyStagedTree(
  config: Readonly<Config>,
  staging: string,
  policy: TrustPolicy,
  previous?: TreeIndex | readonly (TreeIndex | undefined)[],
): Promise<VerifiedTree> {
  const index = await indexTree(staging, previous);
  const manifest = trustManifest(await readOfferedManifest(staging), policy);
  if (manifest) checkTreeMatchesManifest(manifest, index.files);
  try {
    await access(join(staging, config.puppet.manifest));
  } catch {
    throw new AgentError('source_rejected', `release ${index.releaseId.slice(0, 12)} has no Puppet entry point "${config.puppet.manifest}" (puppet.manifest)`);
  }
  return { index, manifest };
}

/**
 * An S3 release into `staging`: its files from the object cache, its manifest and signature as
 * fetched, then verified like any staged tree (the release source and a plan's candidate alike).
 * `previous` is the active release's index, whose digests the verification reused.
 */
export async function assembleVerifiedTree(
  config: Readonly<Config>,
  paths: StatePaths,
  active: ActiveRelease | null,
  staging: string,
  offered: FetchedManifest,
  policy: TrustPolicy,
): Promise<{ index: TreeIndex; previous: TreeIndex | undefined }> {
  await assembleTree(paths.objectCacheDir, offered.manifest.files, staging);
  await mkdir(join(staging, '.release'));
  await writeFile(join(staging, MANIFEST_FILE), offered.manifestBytes);
  if (offered.signature) await writeFile(join(staging, SIGNATURE_FILE), offered.signature);
  const previous = active ? await readTreeIndex(paths, active.id) : undefined;
  const { index } = await verifyStagedTree(config, staging, policy, previous);
  return { index, previous };
}

/** Rename the staged tree to `releases/<id>`, or reuse a kept release with that id (a rollback). */
export async function keepRelease(paths: StatePaths, staging: string, index: TreeIndex): Promise<string> {
  const releaseDir = join(paths.releasesDir, index.releaseId);
  if (existsSync(releaseDir)) return releaseDir; // same id = same files: the kept copy is as good
  await writeTreeIndex(paths, index); // before the rename: rename keeps inodes, so the index stays true
  await rename(staging, releaseDir);
  await syncDirectory(paths.releasesDir);
  return releaseDir;
}
