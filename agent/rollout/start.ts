import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes, type KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import { signManifest } from '../release/signature.js';
import { parseManifest, serializeManifest, short, type ReleasePointer } from '../release/manifest.js';
import { nextManifest } from '../publish/next-manifest.js';
import { publishableFiles } from '../publish/tree-files.js';
import { uploadRelease } from '../publish/s3-upload.js';
import { readPointer, readRelease, readRollout, signedBy, writePointer, writeRollout, type RolloutStore } from './store.js';
import { isOpen, type OnFailure, type RolloutDocument } from './document.js';
import { startRollout } from './transitions.js';
import { createPublicKey } from 'node:crypto';

/**
 * `agent rollout start DIR|RELEASE_ID` (SPEC §9): check everything before writing anything (the key
 * is the publisher's, no rollout is open, the candidate is newer than current.json), then upload the
 * candidate like publish does but leave current.json on the previous release, write the signed
 * rollout.json, and last add `rollout_id` to current.json so hosts start reading rollout.json.
 */
export interface StartOptions {
  what: string;
  key: KeyObject;
  steps: number[];
  bake: string;
  maxFailed: string;
  canaryRole: string | null;
  onFailure: OnFailure;
  by: string;
  now: Date;
  progress: (line: string) => void;
}

export async function startRolloutCommand(store: RolloutStore, options: StartOptions): Promise<RolloutDocument> {
  const target = `s3://${store.bucket}/${store.prefix.replace(/\/$/, "")}`;
  const previous = await readPointer(store);
  if (!previous) throw new AgentError('internal', `nothing is published at ${target} yet: publish a first release with \`agent publish DIR --key K --to ${target}\`; a rollout needs a previous release to fall back to`);
  const previousRelease = await readRelease(store, previous.release_id);
  if (!previousRelease || !signedBy(previousRelease.manifest, previousRelease.signature, options.key)) {
    throw new AgentError('internal', `--key is not the publisher's key: the current release ${short(previous.release_id)} at ${target} is not signed by it; nothing was written`);
  }
  const existing = await readRollout(store, createPublicKey(options.key));
  if (existing && isOpen(existing.doc.state)) {
    throw new AgentError('internal', `rollout ${existing.doc.rollout_id} is ${existing.doc.state} at step ${existing.doc.step + 1}/${existing.doc.steps.length} (release ${short(existing.doc.candidate.release_id)}): abort it (\`agent rollout abort\`) or let it complete before starting another`);
  }
  const floor = Math.max(previous.serial, existing?.doc.candidate.serial ?? 0);
  const isReleaseId = /^[0-9a-f]{64}$/.test(options.what) && !existsSync(options.what);
  const candidate = isReleaseId ? await existingCandidate(store, options, previous, target) : await uploadCandidate(store, options, previous, floor);
  if (candidate.release_id === previous.release_id) throw new AgentError('internal', `release ${short(candidate.release_id)} is already current at ${target}: nothing to roll out`);

  const rolloutId = `r-${options.now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  const doc = startRollout({
    rolloutId,
    serial: (existing?.doc.serial ?? 0) + 1,
    candidate,
    previous: { release_id: previous.release_id, serial: previous.serial },
    steps: options.steps,
    canaryRole: options.canaryRole,
    bake: options.bake,
    maxFailed: options.maxFailed,
    onFailure: options.onFailure,
    now: options.now,
    by: options.by,
  });
  await writeRollout(store, doc, options.key, existing);
  await writePointer(store, { release_id: previous.release_id, serial: previous.serial, rollout_id: rolloutId });
  return doc;
}

async function existingCandidate(store: RolloutStore, options: StartOptions, previous: ReleasePointer, target: string): Promise<ReleasePointer> {
  const release = await readRelease(store, options.what);
  if (!release) throw new AgentError('internal', `release ${short(options.what)} is not in ${target}/releases/: publish or roll out its tree (DIR) instead`);
  if (!signedBy(release.manifest, release.signature, options.key)) throw new AgentError('internal', `release ${short(options.what)} at ${target} is not signed by --key`);
  const manifest = parseManifest(release.manifest, `${target}/releases/${options.what}.json`);
  if (manifest.serial <= previous.serial) {
    throw new AgentError('internal', `release ${short(options.what)} has serial ${manifest.serial}, not above the current release's ${previous.serial}: hosts would refuse it as a downgrade; roll out its tree (DIR) to give it a new serial`);
  }
  return { release_id: manifest.release_id, serial: manifest.serial };
}

async function uploadCandidate(store: RolloutStore, options: StartOptions, previous: ReleasePointer, floor: number): Promise<ReleasePointer> {
  const dir = resolve(options.what);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AgentError('usage', `${options.what}: expected a directory (the tree) or a 64-hex RELEASE_ID`);
  const files = await publishableFiles(dir);
  const manifest = nextManifest(files, [{ ...previous, serial: floor }], options.now, options.by);
  if (manifest.release_id === previous.release_id) return previous;
  const bytes = serializeManifest(manifest);
  const signed = { manifest: bytes, signature: signManifest(bytes, options.key) };
  options.progress(`agent: rollout  candidate ${short(manifest.release_id)} serial ${manifest.serial}: uploading to s3://${store.bucket}/${store.prefix}`);
  await uploadRelease({ s3: store.s3, bucket: store.bucket, prefix: store.prefix }, dir, manifest, signed, () => undefined, { pointer: false });
  return { release_id: manifest.release_id, serial: manifest.serial };
}
