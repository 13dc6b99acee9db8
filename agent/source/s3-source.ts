import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deps } from '../deps.js';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease, FetchedRelease, FetchOptions } from './types.js';
import { createS3Client, DEFAULT_S3_LIMITS } from '../adapters/s3.js';
import { forEachConcurrently } from '../concurrency.js';
import type { ReleaseManifest } from '../release/manifest.js';
import { countChangedFiles } from '../release/tree-index.js';
import { STAGING_PREFIX } from '../release/prune.js';
import { cachedEntries, DeferredEntries, ensureEntry, entryName, storeObject, storeVerifiedBytes } from './object-cache.js';
import { packOrder, PackMismatch, readPack, shouldUsePack } from './pack.js';
import { assembleVerifiedTree, keepRelease, trustPolicy } from './staged-release.js';
import { pollS3Source, unreachable } from './s3-poll.js';
import { s3ReleaseReader } from './s3-release-reader.js';
import { decideTarget } from '../rollout/host-target.js';

/** Downloads in flight at once: enough to fill a link on small files, few enough to be polite to S3. */
const DOWNLOAD_CONCURRENCY = 8;
/** The SDK's standard retry mode backs off on 5xx and SlowDown; a source gets more tries than a report (which has its spool). */
const SOURCE_LIMITS = { ...DEFAULT_S3_LIMITS, maxAttempts: 5 };

/**
 * poll → decide → stage → verify for an S3 source. Poll: current.json and rollout.json, each one
 * conditional GET (s3-poll.ts). Decide: which release this host should run (SPEC §9: its rollout
 * cohort, a rolled-back release held). Then the manifest and its signature, trusted before any object
 * is fetched; then only the objects the local cache lacks, each checked against its digest; then a
 * release directory of hard links from the cache, verified like any staged tree.
 */
export async function fetchS3Release(
  deps: Pick<Deps, 'log'>,
  config: Readonly<Config>,
  paths: StatePaths,
  active: ActiveRelease | null,
  options: FetchOptions = {},
  s3: S3Client = createS3Client(config.source, process.env, SOURCE_LIMITS),
): Promise<FetchedRelease> {
  const reader = s3ReleaseReader(s3, config.source, options.signal);
  try {
    const basePolicy = await trustPolicy(config, active, options.allowDowngrade ?? false);
    const polled = await pollS3Source({
      get: reader.get,
      keys: reader.keys,
      where: reader.where,
      stateFile: paths.sourcePointerFile,
      seenFile: paths.rolloutSeenFile,
      trustedKeys: basePolicy.keys,
      useCache: active !== null,
    });
    const target = decideTarget({
      pointer: polled.pointer,
      rollout: polled.rollout,
      host: options.host ?? { instance_id: '', roles: [] },
      failed: active ? (options.failed ?? []) : [],
      retryFailed: options.retryFailed ?? false,
    });
    const named = { namedBy: target.namedBy, ...(target.rollout ? { rollout: target.rollout } : {}) };
    await polled.remember();
    if (active && (!target.release || target.release.release_id === active.id)) {
      return { ...unchanged(active, polled.bytes), ...named, ...(target.held ? { held: target.held } : {}) };
    }
    const release = target.release ?? polled.pointer;
    const policy = { ...basePolicy, allowDowngrade: basePolicy.allowDowngrade || target.allowDowngrade };
    const naming = target.rollout ? `rollout ${target.rollout.rollout_id} names` : 'current.json points at';
    const fetched = await reader.trustedManifest(release.release_id, policy, naming);
    const { manifest } = fetched;
    const downloaded = await downloadMissing(paths.objectCacheDir, manifest, reader.objectOpener(manifest), { open: reader.packOpener(manifest), log: deps.log });
    const bytesTransferred = polled.bytes + reader.bytes() + downloaded;

    await mkdir(paths.releasesDir, { recursive: true });
    const staging = join(paths.releasesDir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      const { index, previous } = await assembleVerifiedTree(config, paths, active, staging, fetched, policy);
      const releaseDir = await keepRelease(paths, staging, index);
      const filesChanged = previous ? countChangedFiles(previous, index) : Object.keys(manifest.files).length;
      return { status: 'updated', releaseId: index.releaseId, releaseDir, filesChanged, bytesTransferred, ...named };
    } finally {
      await rm(staging, { recursive: true, force: true }); // gone already when it became the release
    }
  } finally {
    s3.destroy();
  }
}

/**
 * Download the objects of `manifest` the cache lacks (each once, whatever paths share it): from the
 * release's pack when the cache lacks most of them (a first sync: one GET), then the rest a few at a
 * time; every object is checked against its digest either way, and all become cache entries together
 * after one syncfs (DeferredEntries). Then make sure every (digest, mode) pair has its entry. Returns
 * the bytes of single-object downloads (the pack's own bytes are counted by openPack).
 */
export async function downloadMissing(
  cacheDir: string,
  manifest: ReleaseManifest,
  open: (sha256: string) => Promise<Readable>,
  /** The release's pack, for a cache that lacks most of it (a first sync): one GET instead of one per object. */
  pack?: { open: () => Promise<Readable | null>; log: Pick<Deps['log'], 'warn'> },
): Promise<number> {
  const cached = await cachedEntries(cacheDir);
  const cachedDigests = new Set([...cached].map((name) => name.slice(0, 64)));
  const wanted = new Map<string, ReleaseManifest['files'][string]>();
  for (const file of Object.values(manifest.files)) if (!cachedDigests.has(file.sha256)) wanted.set(file.sha256, file);
  const missing = new Map(wanted);
  let bytes = 0;
  const deferred = new DeferredEntries(cacheDir);
  try {
    await mkdir(cacheDir, { recursive: true });
    const order = packOrder(manifest);
    const packBody = pack && shouldUsePack(missing.size, order.length) ? await pack.open() : null;
    if (pack && packBody) {
      try {
        await readPack(packBody, order, (entry, content) => {
          const file = missing.get(entry.sha256);
          if (!file) return;
          storeVerifiedBytes(cacheDir, file, content, deferred);
          missing.delete(entry.sha256);
        });
      } catch (error) {
        if (!(error instanceof PackMismatch)) throw unreachable(`packs/${manifest.release_id}.gz`, error);
        // nothing unproven was kept: what the pack did not deliver comes object by object
        pack.log.warn({ release_id: manifest.release_id, err: error.message, remaining: missing.size }, 'the release pack does not match its manifest: fetching the rest object by object');
      }
    }
    await forEachConcurrently([...missing.entries()], DOWNLOAD_CONCURRENCY, async ([sha256, file]) => {
      const body = await open(sha256);
      try {
        const stored = await storeObject(cacheDir, file, body, `objects/${sha256}`, deferred);
        bytes += stored; // after the await: `bytes += await ...` would add to a stale total
      } catch (error) {
        throw unreachable(`objects/${sha256}`, error); // a connection cut mid-body; a bad digest stays a rejection
      }
    });
    await deferred.commit();
  } catch (error) {
    deferred.discard();
    throw error;
  }
  for (const [sha256, file] of wanted) cached.add(entryName(sha256, file.mode));
  // a copy only where a digest is cached under another mode: no call at all for the rest of the tree
  for (const file of Object.values(manifest.files)) {
    const name = entryName(file.sha256, file.mode);
    if (cached.has(name)) continue;
    await ensureEntry(cacheDir, file);
    cached.add(name);
  }
  return bytes;
}

function unchanged(active: ActiveRelease, bytesTransferred: number): Omit<FetchedRelease, 'namedBy'> {
  return { status: 'unchanged', releaseId: active.id, releaseDir: active.dir, filesChanged: 0, bytesTransferred };
}
