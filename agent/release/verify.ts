import { AgentError } from '../errors.js';
import { isReleaseMetadata } from './release-id.js';
import { parseManifest, short, type ReleaseManifest } from './manifest.js';
import { findSigner, type TrustedKey } from './signature.js';

/**
 * The decisions of SPEC §1.3 and §8, pure: may this release be activated? Each refusal is a
 * `source_rejected` AgentError whose message is the reason the report carries.
 */

export interface OfferedManifest {
  /** The manifest's exact bytes, or null for a tree without `.release/` (the seed's plain tree). */
  bytes: Buffer | null;
  /** manifest.sig's text, or null when there is none. */
  signature: string | null;
  /** Names the manifest in messages: `.release/manifest.json`, `s3://bucket/releases/<id>.json`. */
  where: string;
}

export interface TrustPolicy {
  /** verify.public_keys, loaded; empty = unsigned trees accepted. */
  keys: readonly TrustedKey[];
  active: { id: string; serial: number | null } | null;
  allowDowngrade: boolean;
}

/**
 * Check an offered manifest before anything else is fetched: its signature (when keys are set),
 * its shape, and that its serial does not go backwards. Returns the manifest, or null for an
 * unsigned plain tree that the policy accepts.
 */
export function trustManifest(offered: OfferedManifest, policy: TrustPolicy): ReleaseManifest | null {
  const signed = policy.keys.length > 0;
  if (!offered.bytes) {
    if (signed) throw rejected(`the release is unsigned (no ${offered.where}), and verify.public_keys accepts only signed releases`);
    return null;
  }
  if (signed) {
    if (offered.signature === null) throw rejected(`${offered.where} has no signature beside it, and verify.public_keys accepts only signed releases`);
    if (!findSigner(offered.bytes, offered.signature, policy.keys)) {
      throw rejected(
        `${offered.where}: the signature does not verify with any key in verify.public_keys ` +
          `(${policy.keys.map((key) => key.name).join(', ')}): signed by an unknown key, truncated, or the manifest was changed after signing`,
      );
    }
  }
  const manifest = parseManifest(offered.bytes.toString('utf8'), offered.where);
  checkSerial(manifest, policy);
  return manifest;
}

/** Serials only grow (a replayed old release is refused) unless the operator asked for the rollback. */
function checkSerial(manifest: ReleaseManifest, policy: TrustPolicy): void {
  const { active } = policy;
  if (!active || active.serial === null || manifest.release_id === active.id || policy.allowDowngrade) return;
  const offered = `release ${short(manifest.release_id)} has serial ${manifest.serial}`;
  if (manifest.serial < active.serial) {
    throw rejected(`${offered}, lower than the active release's ${active.serial} (a replayed older release?); \`agent run-now --allow-downgrade\` applies it deliberately`);
  }
  if (manifest.serial === active.serial) {
    throw rejected(`${offered}, the same as the active release ${short(active.id)} with different content; publish gives every release a new serial`);
  }
}

export interface TreeFile {
  sha256: string;
  size: number;
  mode: string;
}

/**
 * Every file of the staged tree is in the manifest with the same digest, size and mode, and every
 * file of the manifest is in the tree. `.release/` itself is not part of the release.
 */
export function checkTreeMatchesManifest(manifest: ReleaseManifest, tree: Readonly<Record<string, TreeFile>>): void {
  const problems: string[] = [];
  for (const [path, expected] of Object.entries(manifest.files)) {
    const found = tree[path];
    if (!found) problems.push(`${path}: missing`);
    else if (found.sha256 !== expected.sha256 || found.size !== expected.size) problems.push(`${path}: content differs from the manifest`);
    else if (found.mode !== expected.mode) problems.push(`${path}: mode ${found.mode}, manifest says ${expected.mode}`);
  }
  for (const path of Object.keys(tree)) {
    if (!isReleaseMetadata(path) && !(path in manifest.files)) problems.push(`${path}: not in the manifest (extra file)`);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  throw rejected(`release ${short(manifest.release_id)} does not match its manifest: ${shown}${more}`);
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}
