import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import { signManifest } from '../release/signature.js';
import { parseManifest, releaseIdOf, serializeManifest, short, type ReleasePointer } from '../release/manifest.js';
import { nextManifest } from '../publish/next-manifest.js';
import { publishableFiles } from '../publish/tree-files.js';
import { uploadRelease } from '../publish/s3-upload.js';
import { readPointer, readRelease, readRollout, signedBy } from '../rollout/store.js';
import { PLAN_SCHEMA, type PlanDocument } from './document.js';
import { writePlan, type PlanStore } from './store.js';

/**
 * `agent plan start DIR|RELEASE_ID` (SPEC §10): check before writing (the key is the publisher's, the
 * release is there or the tree uploads), upload the candidate like publish does but never touch
 * current.json or rollout.json, then write the signed plan and plans/current.json last.
 */
export interface PlanStartOptions {
  what: string;
  key: KeyObject;
  roles: string[];
  sample: number | null;
  ttlMs: number;
  by: string;
  now: Date;
  progress: (line: string) => void;
}

export async function startPlanCommand(store: PlanStore, options: PlanStartOptions): Promise<PlanDocument> {
  const target = `s3://${store.bucket}/${store.prefix.replace(/\/$/, '')}`;
  const current = await readPointer(store);
  if (current) {
    const release = await readRelease(store, current.release_id);
    if (!release || !signedBy(release.manifest, release.signature, options.key)) {
      throw new AgentError('internal', `--key is not the publisher's key: the current release ${short(current.release_id)} at ${target} is not signed by it; nothing was written`);
    }
  }
  const isReleaseId = /^[0-9a-f]{64}$/.test(options.what) && !existsSync(options.what);
  const candidate = isReleaseId ? await existingRelease(store, options, target) : await uploadTree(store, options, current);
  const plan: PlanDocument = {
    schema: PLAN_SCHEMA,
    plan_id: `p-${options.now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
    candidate,
    roles: options.roles,
    sample: options.sample,
    created_at: options.now.toISOString(),
    expires_at: new Date(options.now.getTime() + options.ttlMs).toISOString(),
    created_by: options.by,
  };
  await writePlan(store, plan, options.key);
  return plan;
}

async function existingRelease(store: PlanStore, options: PlanStartOptions, target: string): Promise<ReleasePointer> {
  const release = await readRelease(store, options.what);
  if (!release) throw new AgentError('internal', `release ${short(options.what)} is not in ${target}/releases/: plan its tree (DIR) instead, which uploads it; nothing was written`);
  if (!signedBy(release.manifest, release.signature, options.key)) throw new AgentError('internal', `release ${short(options.what)} at ${target} is not signed by --key; nothing was written`);
  const manifest = parseManifest(release.manifest, `${target}/releases/${options.what}.json`);
  return { release_id: manifest.release_id, serial: manifest.serial };
}

/** The tree as a release: reused when the bucket already holds it (planned or published before), else uploaded with the next serial. */
async function uploadTree(store: PlanStore, options: PlanStartOptions, current: ReleasePointer | null): Promise<ReleasePointer> {
  const dir = resolve(options.what);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AgentError('usage', `${options.what}: expected a directory (the tree) or a 64-hex RELEASE_ID`);
  const files = await publishableFiles(dir);
  const id = releaseIdOf(files); // publishableFiles leaves .release/ out, as the release id does
  const known = await readRelease(store, id);
  if (known && signedBy(known.manifest, known.signature, options.key)) {
    options.progress(`agent: plan     candidate ${short(id)} is already in s3://${store.bucket}/${store.prefix}: nothing to upload`);
    const manifest = parseManifest(known.manifest, `s3://${store.bucket}/${store.prefix}releases/${id}.json`);
    return { release_id: id, serial: manifest.serial };
  }
  const rollout = await readRollout(store, createPublicKey(options.key)).catch(() => null);
  const floor = Math.max(current?.serial ?? 0, rollout?.doc.candidate.serial ?? 0);
  const manifest = nextManifest(files, floor ? [{ release_id: '', serial: floor }] : [], options.now, options.by);
  const bytes = serializeManifest(manifest);
  options.progress(`agent: plan     candidate ${short(manifest.release_id)} serial ${manifest.serial}: uploading to s3://${store.bucket}/${store.prefix}`);
  await uploadRelease({ s3: store.s3, bucket: store.bucket, prefix: store.prefix }, dir, manifest, { manifest: bytes, signature: signManifest(bytes, options.key) }, () => undefined, { pointer: false });
  return { release_id: manifest.release_id, serial: manifest.serial };
}
