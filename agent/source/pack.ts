import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ReleaseManifest } from '../release/manifest.js';

/**
 * A release pack (SPEC §8, `packs/<release_id>.gz`): the release's distinct objects, in ascending
 * digest order, concatenated, gzip'd. It has no header and no signature of its own: the signed
 * manifest gives every object's digest and size, so the reader cuts the stream by size and checks
 * each piece against its digest exactly as a single object GET is checked. A host with an empty
 * cache fetches it in one GET instead of one GET per object.
 */

export interface PackEntry {
  sha256: string;
  size: number;
}

/** The objects of a release in pack order: each digest once, ascending. */
export function packOrder(manifest: Pick<ReleaseManifest, 'files'>): PackEntry[] {
  const sizes = new Map<string, number>();
  for (const file of Object.values(manifest.files)) sizes.set(file.sha256, file.size);
  return [...sizes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sha256, size]) => ({ sha256, size }));
}

/** Use the pack when the cache lacks at least this many objects and at least half of the release's. */
export const PACK_MIN_OBJECTS = 32;

export function shouldUsePack(missing: number, total: number): boolean {
  return missing >= PACK_MIN_OBJECTS && missing * 2 >= total;
}

export class PackMismatch extends Error {}

/**
 * Read a pack: calls `onObject` with each object's bytes once they are proven to hash to the
 * digest and size the manifest gives. A piece that does not match, a short pack or trailing bytes
 * throw PackMismatch (nothing unproven is ever handed on).
 */
export async function readPack(body: Readable, order: readonly PackEntry[], onObject: (entry: PackEntry, bytes: Buffer) => void): Promise<void> {
  let index = 0;
  let parts: Buffer[] = [];
  let have = 0;
  const finishEntries = () => {
    // zero-length objects need no bytes at all
    while (index < order.length && have >= order[index]!.size) {
      const entry = order[index]!;
      const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
      const bytes = joined.subarray(0, entry.size);
      const rest = joined.subarray(entry.size);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== entry.sha256) throw new PackMismatch(`object ${index + 1} of the pack hashes to ${digest.slice(0, 12)}, expected ${entry.sha256.slice(0, 12)}`);
      onObject(entry, bytes);
      index++;
      parts = rest.length > 0 ? [rest] : [];
      have = rest.length;
    }
  };
  finishEntries();
  for await (const chunk of body.pipe(createGunzip()) as AsyncIterable<Buffer>) {
    if (index >= order.length) throw new PackMismatch('the pack holds more bytes than the manifest lists');
    parts.push(chunk);
    have += chunk.length;
    finishEntries();
  }
  if (index < order.length || have > 0) throw new PackMismatch(`the pack ends after ${index} of ${order.length} objects`);
}
