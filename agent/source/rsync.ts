import { chmod, lstat, lutimes, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease, FetchedRelease, FetchOptions } from './types.js';
import type { ExecResult } from '../adapters/exec.js';
import { AgentError } from '../errors.js';
import { changedItems, parseStats, pollArgs, releaseFileArgs, rsyncFailure, stageArgs } from './rsync-args.js';
import { countChangedFiles, readTreeIndex, restatIndex, writeTreeIndex, type TreeIndex } from '../release/tree-index.js';
import { isReleaseMetadata } from '../release/release-id.js';
import { STAGING_PREFIX } from '../release/prune.js';
import { trustManifest } from '../release/verify.js';
import { recycleRelease } from '../release/recycle.js';
import { MANIFEST_FILE, type ReleaseManifest } from '../release/manifest.js';
import { keepRelease, readOfferedManifest, trustPolicy, verifyStagedTree } from './staged-release.js';
import { formatDuration } from '../config/duration.js';
import { syncFileSystem } from '../adapters/files.js';
import { heldBack } from '../rollout/host-target.js';
import { isRemoteUrl, pollIntervalMs } from '../config/semantics.js';
import { PERSIST_MARGIN_S, RUN_PERSIST_S, sshControlFor, type SshControl } from './ssh-control.js';

type FetchDeps = Pick<Deps, 'exec' | 'log'>;

/**
 * poll → stage → verify for an rsync source (local path or user@host:/path over ssh).
 * Poll: when the active release is signed, `.release/` alone; a trusted manifest naming the active
 * release ends the source stage there, with no walk of the tree on either side. When it is a plain
 * tree, one itemized dry run (which also shows a `.release/` that appeared). files_changed: files added, removed or changed in content or mode against the
 * active release (every file on a first fetch). bytes_transferred: rsync's "Total bytes received", poll included.
 */
export async function fetchRsyncRelease(
  deps: FetchDeps,
  config: Readonly<Config>,
  paths: StatePaths,
  active: ActiveRelease | null,
  options: FetchOptions = {},
): Promise<FetchedRelease> {
  const rsync = (args: string[]) => runRsync(deps, config, args, options.signal);
  const heldInput = { failed: options.failed ?? [], retryFailed: options.retryFailed ?? false };
  const policy = await trustPolicy(config, active, options.allowDowngrade ?? false);
  const control = await sshControl(config, paths, options.keepConnection ?? false);
  await mkdir(paths.releasesDir, { recursive: true });
  const staging = join(paths.releasesDir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
  const recycling = `${staging}-recycled`;
  try {
    let polledBytes = 0;
    // a signed active release: its successor is announced by `.release/` alone
    let manifest: ReleaseManifest | null = null;
    if (active && existsSync(join(active.dir, MANIFEST_FILE))) {
      polledBytes += parseStats((await rsync(releaseFileArgs(config.source, staging, control))).stdout).bytesTransferred;
      manifest = trustManifest(await readOfferedManifest(staging), policy);
      if (manifest?.release_id === active.id) return unchanged(active, polledBytes);
      const held = manifest ? heldBack(heldInput, manifest.release_id, RSYNC_NAMED_BY) : undefined;
      if (held) return { ...unchanged(active, polledBytes), held };
    }
    // a plain active release (or a source that dropped its manifest): one itemized dry run, one connection
    if (active && !manifest) {
      const poll = await rsync(pollArgs(config.source, active.dir, control));
      polledBytes += parseStats(poll.stdout).bytesTransferred;
      if (changedItems(poll.stdout).length === 0) return unchanged(active, polledBytes);
    }
    // a signed successor: stage into the release the next prune would delete (release/recycle.ts)
    const recycled = active && manifest ? await recycleRelease(paths, active, manifest, recycling) : undefined;
    const target = recycled ? recycling : staging;
    const stats = parseStats((await rsync(stageArgs(config.source, target, active?.dir ?? null, control, manifest !== null))).stdout);
    await syncFileSystem(target); // the new files durable before anything trusts them (stageArgs)
    const bytesTransferred = polledBytes + stats.bytesTransferred;
    const previous = active ? await readTreeIndex(paths, active.id) : undefined;
    const { index } = await verifyStagedTree(config, target, policy, [previous, recycled]);
    if (active && index.releaseId === active.id) {
      await adoptSourceTimes(deps, paths, target, active, previous);
      return unchanged(active, bytesTransferred);
    }
    // a plain tree is known by its id only once staged: a held one is staged and dropped at each poll
    const held = active ? heldBack(heldInput, index.releaseId, RSYNC_NAMED_BY) : undefined;
    if (active && held) return { ...unchanged(active, bytesTransferred), held };
    const releaseDir = await keepRelease(paths, target, index);
    const filesChanged = previous ? countChangedFiles(previous, index) : active ? stats.filesChanged : Object.keys(index.files).length;
    return { status: 'updated', releaseId: index.releaseId, releaseDir, filesChanged, bytesTransferred, namedBy: RSYNC_NAMED_BY };
  } finally {
    await rm(staging, { recursive: true, force: true }); // gone already when it became the release
    await rm(recycling, { recursive: true, force: true });
  }
}

/** The control socket for a remote source (none for a local path); see ssh-control.ts. */
async function sshControl(config: Readonly<Config>, paths: StatePaths, keep: boolean): Promise<SshControl | undefined> {
  const { source } = config;
  if (!source.url || !isRemoteUrl(source.url)) return undefined;
  await mkdir(paths.sshDir, { recursive: true, mode: 0o700 });
  await chmod(paths.sshDir, 0o700);
  const knownHosts = await readFile(source.known_hosts, 'utf8').catch(() => ''); // unreadable: ssh says so itself
  const persist = keep ? pollIntervalMs(config.schedule) / 1000 + PERSIST_MARGIN_S : RUN_PERSIST_S;
  return sshControlFor(source, knownHosts, paths.sshDir, persist);
}

function unchanged(active: ActiveRelease, bytesTransferred: number): FetchedRelease {
  return { status: 'unchanged', releaseId: active.id, releaseDir: active.dir, filesChanged: 0, bytesTransferred, namedBy: RSYNC_NAMED_BY };
}

/** The rsync source serves one tree: whatever it holds names the release (no pointer, no rollout). */
const RSYNC_NAMED_BY = 'the rsync source';

/**
 * The source changed times but no content (a `touch`, a re-copied tree): the id is the active one,
 * so its files are proven identical. Copy the source's times (and directory modes, which the id
 * leaves out) onto the active release, or rsync's quick check would restage it on every poll.
 * Best effort: a failure costs one more restage, never the run. `.release/` is left to the verifier.
 */
async function adoptSourceTimes(deps: FetchDeps, paths: StatePaths, staging: string, active: ActiveRelease, previous?: TreeIndex): Promise<void> {
  const walk = async (relativeDir: string): Promise<void> => {
    for (const name of await readdir(join(staging, relativeDir))) {
      const relative = relativeDir ? `${relativeDir}/${name}` : name;
      if (isReleaseMetadata(relative)) continue;
      const source = await lstat(join(staging, relative));
      const target = join(active.dir, relative);
      if (source.isDirectory()) {
        await walk(relative);
        await chmod(target, source.mode & 0o7777);
      }
      await lutimes(target, source.atime, source.mtime);
    }
  };
  try {
    await walk('');
    if (previous) await writeTreeIndex(paths, await restatIndex(active.dir, previous));
    deps.log.info({ release_id: active.id }, 'the source changed only file times: adopted them into the active release');
  } catch (error) {
    deps.log.warn({ release_id: active.id, err: String(error) }, 'could not adopt the source file times; the next poll will stage again');
  }
}

async function runRsync(deps: Pick<Deps, 'exec'>, config: Readonly<Config>, args: string[], signal?: AbortSignal): Promise<ExecResult> {
  // LC_ALL=C: --stats labels and digit grouping are what parseStats reads
  const env = { LC_ALL: 'C' };
  const result = await deps.exec({ file: 'rsync', args, env, timeoutMs: config.source.timeout, killGraceMs: 2000, signal });
  const failure = rsyncFailure(config.source.url ?? '', result, formatDuration(config.source.timeout));
  if (failure) throw new AgentError('source_unreachable', failure);
  return result;
}
