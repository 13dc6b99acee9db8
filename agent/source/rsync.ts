import { mkdir, rename, rm, access } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Config } from '../config/schema.js';
import type { StatePaths } from '../run/paths.js';
import type { ActiveRelease, FetchedRelease } from './types.js';
import type { ExecResult } from '../adapters/exec.js';
import { AgentError } from '../errors.js';
import { changedItems, parseStats, pollArgs, stageArgs } from './rsync-args.js';
import { indexTree, type TreeIndex } from '../release/tree-index.js';
import { STAGING_PREFIX } from '../release/prune.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { formatDuration } from '../config/duration.js';

/** rsync's "some files vanished before they could be transferred": the server was mid-update, not down. */
const RSYNC_VANISHED = 24;

/** poll → stage → verify for an rsync source (local path or user@host:/path over ssh). */
export async function fetchRsyncRelease(
  deps: Pick<Deps, 'exec' | 'log'>,
  config: Readonly<Config>,
  paths: StatePaths,
  active: ActiveRelease | null,
  signal?: AbortSignal,
): Promise<FetchedRelease> {
  const rsync = (args: string[]) => runRsync(deps, config, args, signal);
  if (active) {
    const poll = await rsync(pollArgs(config.source, active.dir));
    if (changedItems(poll.stdout).length === 0) {
      return { status: 'unchanged', releaseId: active.id, releaseDir: active.dir, filesChanged: 0, bytesTransferred: 0 };
    }
  }
  await mkdir(paths.releasesDir, { recursive: true });
  const staging = join(paths.releasesDir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    const staged = await rsync(stageArgs(config.source, staging, active?.dir ?? null));
    const previous = active ? await readJsonFile<TreeIndex>(indexPath(paths, active.id)) : undefined;
    const index = await indexTree(staging, previous);
    await verifyPlainTree(config, staging, index);
    const { filesChanged, bytesTransferred } = parseStats(staged.stdout);
    if (index.releaseId === active?.id) {
      await rm(staging, { recursive: true, force: true });
      return { status: 'unchanged', releaseId: active.id, releaseDir: active.dir, filesChanged: 0, bytesTransferred };
    }
    const releaseDir = join(paths.releasesDir, index.releaseId);
    if (existsSync(releaseDir)) {
      await rm(staging, { recursive: true, force: true }); // a kept release came back (a rollback): reuse it
    } else {
      await writeFileAtomic(indexPath(paths, index.releaseId), JSON.stringify(index));
      await rename(staging, releaseDir);
    }
    return { status: 'updated', releaseId: index.releaseId, releaseDir, filesChanged, bytesTransferred };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export function indexPath(paths: StatePaths, releaseId: string): string {
  return join(paths.releasesDir, `${releaseId}.index.json`);
}

/**
 * What a tree must have before it may be activated. Signed trees (`.release/manifest.json`) are
 * checked file by file against their manifest by the release verifier; a plain tree needs its
 * Puppet entry point, and is refused outright when the host only accepts signed releases.
 */
async function verifyPlainTree(config: Readonly<Config>, staging: string, index: TreeIndex): Promise<void> {
  if (config.verify.public_keys.length > 0 && !index.files['.release/manifest.json']) {
    throw new AgentError('source_rejected', `release ${index.releaseId.slice(0, 12)} is unsigned, and verify.public_keys only accepts signed releases`);
  }
  try {
    await access(join(staging, config.puppet.manifest));
  } catch {
    throw new AgentError('source_rejected', `release ${index.releaseId.slice(0, 12)} has no Puppet entry point "${config.puppet.manifest}" (puppet.manifest)`);
  }
}

async function runRsync(deps: Pick<Deps, 'exec'>, config: Readonly<Config>, args: string[], signal?: AbortSignal): Promise<ExecResult> {
  const result = await deps.exec({ file: 'rsync', args, timeoutMs: config.source.timeout, killGraceMs: 2000, signal });
  if (result.exitCode === 0 || result.exitCode === RSYNC_VANISHED) return result;
  const from = config.source.url ?? '';
  if (result.timedOut) throw new AgentError('source_unreachable', `rsync from ${from} timed out after ${formatDuration(config.source.timeout)}`);
  if (result.spawnError) throw new AgentError('source_unreachable', `rsync could not be started: ${result.spawnError}`);
  const reason = meaningfulStderr(result.stderr);
  throw new AgentError('source_unreachable', `rsync from ${from} failed (exit ${String(result.exitCode ?? result.signal)}): ${reason}`);
}

/** What ssh or rsync said that an operator acts on, most decisive first. */
const DECISIVE = [/Host key verification failed/, /REMOTE HOST IDENTIFICATION HAS CHANGED/, /Permission denied/, /Connection (refused|timed out)/, /No such file or directory/, /Could not resolve/];
/** rsync's protocol trailers and ssh's @@@ banners explain nothing on their own. */
const NOISE = /^@+$|^rsync(: \[\w+\])?: (connection unexpectedly closed|error in rsync protocol)|^rsync error:/;

export function meaningfulStderr(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^@\s+|\s+@$/g, '').trim())
    .filter((line) => line && !NOISE.test(line));
  const rank = (line: string) => {
    const index = DECISIVE.findIndex((pattern) => pattern.test(line));
    return index === -1 ? DECISIVE.length : index;
  };
  const ranked = [...lines].sort((a, b) => rank(a) - rank(b));
  return ranked.slice(0, 2).join(' ') || stderr.trim().split('\n')[0] || 'no error output';
}
