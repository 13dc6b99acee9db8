import type { Deps } from '../deps.js';
import type { ApplyOutcome, Drift, Mode } from '../report/types.js';
import { EMPTY_DRIFT } from '../report/types.js';
import type { ActiveRelease } from '../source/types.js';
import type { RunContext } from './run-context.js';
import { runPuppet } from '../apply/puppet-run.js';
import { classifyDrift } from '../report/drift.js';
import { loadDriftState, saveDriftState } from '../report/drift-state.js';
import { describeError } from '../errors.js';
import { shortId } from './source-stage.js';
import { describeResourceChange } from '../report/words.js';

export interface AppliedRelease {
  outcome: ApplyOutcome;
  drift: Drift;
  /** Set when the agent itself could not run Puppet (no good tree): result `error`, exit 1. */
  agentError?: string;
}

/** SPEC §1.5: Puppet on the active release, its report turned into drift. */
export async function applyActiveRelease(
  deps: Pick<Deps, 'exec' | 'log'>,
  context: RunContext,
  input: { mode: Mode; active: ActiveRelease | null; runId: string },
): Promise<AppliedRelease> {
  const { config, paths, progress, identity, lock } = context;
  const { active, mode } = input;
  if (!active) {
    return {
      outcome: { status: 'skipped', release_id: null, puppet_version: null, puppet_exit_code: null, duration_ms: 0 },
      drift: EMPTY_DRIFT,
      agentError: 'no good release on this host yet: the source has never delivered a verified tree, so nothing was applied',
    };
  }
  progress.started('apply', `puppet apply (${mode}) release ${shortId(active.id)}`);
  const run = await runPuppet(deps, {
    config,
    paths,
    releaseDir: active.dir,
    mode,
    facts: { agent_instance_id: identity.id, agent_roles: config.roles.join(','), agent_release: active.id, agent_run_id: input.runId },
    signal: context.signal,
    onSpawn: (pgid) => lock.recordPuppet(pgid),
  });
  lock.clearPuppet();
  const outcome: ApplyOutcome = {
    status: 'unchanged',
    release_id: active.id,
    puppet_version: run.puppetVersion,
    puppet_exit_code: run.exitCode,
    duration_ms: run.durationMs,
  };
  const failWith = (status: 'failed' | 'timeout', error: string): AppliedRelease => {
    progress.finished('apply', `${status.toUpperCase()}: ${error}`, run.durationMs);
    return { outcome: { ...outcome, status, error }, drift: EMPTY_DRIFT };
  };
  if (run.timedOut) return failWith('timeout', `puppet apply timed out after ${Math.round(config.puppet.timeout / 1000)}s and was killed with its process group`);
  if (run.reportYaml === null) {
    return failWith('failed', run.errorLines.join('\n') || `puppet apply exited ${String(run.exitCode)} and wrote no report`);
  }

  let drift: Drift;
  try {
    const { parsePuppetReport } = await import('../apply/parse-report.js'); // the YAML parser: only a run that applied needs it
    const parsed = parsePuppetReport(run.reportYaml);
    outcome.puppet_version = parsed.puppetVersion ?? outcome.puppet_version;
    const state = await loadDriftState(paths.driftStateFile);
    const classified = classifyDrift(parsed, state, { mode, releaseId: active.id });
    drift = classified.drift;
    await saveDriftState(paths.driftStateFile, classified.nextState);
  } catch (error) {
    return failWith('failed', `could not read Puppet's report: ${describeError(error)}`);
  }
  // Puppet's detailed exit codes: bit 2 = changes, bit 4 = failures; 1 = it could not run at all
  const code = run.exitCode ?? 1;
  const failed = code === 1 || (code & 4) !== 0 || drift.failed > 0;
  const changed = mode === 'enforce' && ((code & 2) !== 0 || drift.out_of_sync > 0); // noop changes nothing
  outcome.status = failed ? 'failed' : changed ? 'changed' : 'unchanged';
  if (failed) outcome.error = run.errorLines.join('\n') || `puppet apply exited ${code}`;
  progress.finished(
    'apply',
    `${mode === 'noop' && !failed ? 'noop' : outcome.status}: ${drift.resources_total} resources, ${drift.out_of_sync} out of sync (${drift.corrective} had drifted, ${drift.intentional} new in the release), ${drift.failed} failed`,
    run.durationMs,
  );
  for (const line of describeResources(drift)) progress.note(line);
  return { outcome, drift };
}

/** What was out of line, one resource a line, for the operator watching run-now. */
const LISTED_RESOURCES = 20;
export function describeResources(drift: Drift): string[] {
  const lines = drift.resources.slice(0, LISTED_RESOURCES).map((resource) => `  ${resource.resource}: ${describeResourceChange(resource)}`);
  const more = drift.resources.length - LISTED_RESOURCES;
  return more > 0 ? [...lines, `  ... and ${more} more in the report`] : lines;
}

/** A scheduled poll that found nothing new and no apply due: Puppet does not run (SPEC §1). */
export function skippedApply(active: ActiveRelease | null): AppliedRelease {
  return {
    outcome: { status: 'skipped', release_id: active?.id ?? null, puppet_version: null, puppet_exit_code: null, duration_ms: 0 },
    drift: EMPTY_DRIFT,
  };
}
