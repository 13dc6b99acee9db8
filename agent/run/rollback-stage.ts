import { readFile } from 'node:fs/promises';
import type { Deps } from '../deps.js';
import type { Mode } from '../report/types.js';
import type { RunContext } from './run-context.js';
import type { SyncedRelease } from './source-stage.js';
import type { RunSummary } from './status-file.js';
import { applyActiveRelease, type AppliedRelease } from './apply-stage.js';
import { activateRelease } from '../release/activate.js';
import { readFailedReleases, withFailedRelease, writeFailedReleases } from '../release/failed-releases.js';
import { writeFileAtomic } from '../adapters/files.js';
import { shortId } from './source-stage.js';

/**
 * SPEC §9, "a host never keeps a release that broke it": when this run's new release fails to apply
 * where the release it replaced had succeeded, re-activate that release and apply it in the same run.
 * The report carries `apply.rolled_back_from`, and the failed release is marked so that the same
 * document naming it again does not bring it back (release/failed-releases.ts).
 */
export function shouldRollBack(input: { mode: Mode; synced: SyncedRelease; applied: AppliedRelease; lastApply: RunSummary | null }): boolean {
  const { synced, applied, lastApply } = input;
  if (input.mode !== 'enforce' || synced.source.status !== 'updated' || !synced.replaced) return false;
  if (applied.outcome.status !== 'failed' && applied.outcome.status !== 'timeout') return false;
  // "where the previous one succeeded": its last apply on this host, as status.json recorded it
  return lastApply?.release_id === synced.replaced.id && (lastApply.apply.status === 'unchanged' || lastApply.apply.status === 'changed');
}

/** Apply the active release; if it is new and fails where the replaced one succeeded, roll back. */
export async function applyOrRollBack(
  deps: Pick<Deps, 'exec' | 'log' | 'now'>,
  context: RunContext,
  input: { mode: Mode; synced: SyncedRelease; runId: string; lastApply: RunSummary | null },
): Promise<AppliedRelease> {
  const { synced } = input;
  // the failed apply must not teach the drift state its desired values: the rollback compares against the replaced release's
  const driftState = await readFile(context.paths.driftStateFile).catch(() => null);
  const applied = await applyActiveRelease(deps, context, { mode: input.mode, active: synced.active, runId: input.runId });
  if (!shouldRollBack({ ...input, applied }) || !synced.active || !synced.replaced) return applied;

  const failedId = synced.active.id;
  const replaced = synced.replaced;
  const error = applied.outcome.error ?? `puppet apply ${applied.outcome.status}`;
  context.progress.note(`rollback release ${shortId(failedId)} failed where ${shortId(replaced.id)} had succeeded: re-activating ${shortId(replaced.id)}`);
  deps.log.warn({ failed_release: failedId, rolled_back_to: replaced.id, err: error }, 'new release failed: rolling back to the previous one');
  if (driftState) await writeFileAtomic(context.paths.driftStateFile, driftState);
  await activateRelease(context.paths, replaced.id, deps.log);
  const marks = await readFailedReleases(context.paths.failedReleasesFile);
  const mark = { release_id: failedId, named_by: synced.namedBy ?? 'unknown', failed_at: deps.now().toISOString(), error: error.slice(0, 1024) };
  await writeFailedReleases(context.paths.failedReleasesFile, withFailedRelease(marks, mark));

  const again = await applyActiveRelease(deps, context, { mode: input.mode, active: replaced, runId: input.runId });
  const rollback = {
    puppet_exit_code: applied.outcome.puppet_exit_code,
    status: applied.outcome.status,
    error,
    failed_resources: applied.drift.resources.filter((resource) => resource.failed).map((resource) => resource.resource),
  };
  return { ...again, outcome: { ...again.outcome, rolled_back_from: failedId, rollback } };
}
