import type { Deps } from '../deps.js';
import type { SourceOutcome } from '../report/types.js';
import type { ActiveRelease } from '../source/types.js';
import type { RunContext, RunRequest } from './run-context.js';
import { readActiveRelease, activateRelease } from '../release/activate.js';
import { KEEP_RELEASES, pruneCache, pruneReleases, removeStaleStaging } from '../release/prune.js';
import { isAgentError, describeError } from '../errors.js';
import { sourceLocation } from './run-context.js';
import { readFailedReleases } from '../release/failed-releases.js';
import type { RolloutReport } from '../rollout/host-target.js';


/** Runs the daemon starts: their SSH connection may stay up for the next tick (source/ssh-control.ts). */
const DAEMON_TRIGGERS: ReadonlySet<string> = new Set(['schedule', 'boot', 'signal']);

export interface SyncedRelease {
  source: SourceOutcome;
  /** The release to apply: the new one when the source gave one, else the last good one (or none). */
  active: ActiveRelease | null;
  /** The release that was active before this run activated a new one: what a failed apply rolls back to. */
  replaced?: ActiveRelease;
  /** The document that named the new release (kept with a rollback, so it is not retried). */
  namedBy?: string;
  /** SPEC §9: the rollout this host follows, for the report. */
  rollout?: RolloutReport;
}

/** poll → stage → verify → activate. A source that fails leaves the last good release active. */
export async function syncRelease(deps: Pick<Deps, 'exec' | 'log'>, context: RunContext, request: RunRequest): Promise<SyncedRelease> {
  const { config, paths, progress } = context;
  await removeStaleStaging(paths);
  const active = await readActiveRelease(paths);
  const outcome = (fields: Partial<SourceOutcome> & Pick<SourceOutcome, 'status'>): SourceOutcome => ({
    type: config.source.type,
    url_or_bucket: sourceLocation(config),
    release_id: active?.id ?? null,
    files_changed: 0,
    bytes_transferred: 0,
    ...fields,
  });
  if (request.noSync) {
    progress.note(`poll     skipped (--no-sync): applying the active release ${shortId(active?.id)}`);
    return { source: outcome({ status: 'skipped' }), active };
  }

  const started = performance.now();
  progress.started('poll', `${config.source.type} ${sourceLocation(config)}`);
  try {
    const options = {
      signal: context.signal,
      allowDowngrade: request.allowDowngrade,
      host: { instance_id: context.identity.id, roles: config.roles },
      failed: await readFailedReleases(paths.failedReleasesFile),
      retryFailed: request.retryFailed,
      keepConnection: DAEMON_TRIGGERS.has(request.trigger),
    };
    // each source loads its own code: an rsync poll never loads the S3 SDK
    const fetched = config.source.type === 's3'
      ? await (await import('../source/s3-source.js')).fetchS3Release(deps, config, paths, active, options)
      : await (await import('../source/rsync.js')).fetchRsyncRelease(deps, config, paths, active, options);
    const followed = { namedBy: fetched.namedBy, ...(fetched.rollout ? { rollout: fetched.rollout } : {}) };
    if (fetched.rollout) progress.note(`rollout  ${describeRollout(fetched.rollout)}`);
    if (fetched.status === 'unchanged') {
      if (fetched.held) progress.note(`held     ${fetched.held}`);
      progress.finished('poll', `unchanged, release ${shortId(fetched.releaseId)}`, performance.now() - started);
      return { source: outcome({ status: 'unchanged', release_id: fetched.releaseId, bytes_transferred: fetched.bytesTransferred }), active, ...followed };
    }
    progress.finished(
      'stage',
      `release ${shortId(fetched.releaseId)} staged and verified: ${fetched.filesChanged} files changed, ${fetched.bytesTransferred} bytes`,
      performance.now() - started,
    );
    const activateStarted = performance.now();
    await activateRelease(paths, fetched.releaseId, deps.log);
    await pruneReleases(paths, KEEP_RELEASES, deps.log);
    if (config.source.type === 's3') await pruneCache(paths, deps.log);
    progress.finished('activate', `${paths.stageDir} -> release ${shortId(fetched.releaseId)}`, performance.now() - activateStarted);
    const source = outcome({
      status: 'updated',
      release_id: fetched.releaseId,
      files_changed: fetched.filesChanged,
      bytes_transferred: fetched.bytesTransferred,
    });
    return { source, active: { id: fetched.releaseId, dir: fetched.releaseDir }, ...(active ? { replaced: active } : {}), ...followed };
  } catch (error) {
    const rejected = isAgentError(error, 'source_rejected');
    if (!rejected && !isAgentError(error, 'source_unreachable')) throw error;
    const message = describeError(error);
    deps.log.warn({ err: message, last_good: active?.id ?? null }, rejected ? 'release rejected' : 'manifest source unreachable');
    progress.finished('poll', `${rejected ? 'REJECTED' : 'UNREACHABLE'}: ${message}`, performance.now() - started);
    progress.note(active ? `using the last good release ${shortId(active.id)}` : 'no good release on this host: nothing to apply');
    return { source: outcome({ status: rejected ? 'rejected' : 'unreachable', release_id: null, error: message }), active };
  }
}

function describeRollout(rollout: RolloutReport): string {
  const where = `${rollout.rollout_id} ${rollout.state}, step ${rollout.step + 1} (${rollout.percent}%)`;
  return `${where}: this host is ${rollout.exposed ? 'exposed: candidate' : 'not exposed: previous'} release${rollout.candidate_failed ? ' (the candidate failed here)' : ''}`;
}

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 12) : '(none)';
}
