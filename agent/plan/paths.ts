import { join } from 'node:path';
import type { StatePaths } from '../run/paths.js';

/**
 * A host's plan state, all under `state_dir/plans/`, apart from `releases/` so that release pruning
 * never sees a candidate (SPEC §10: staged beside the active release, never activated, never pruned
 * while its plan is open) and Puppet's own state of real runs is never touched by a noop of a plan.
 */
export interface PlanPaths {
  dir: string;
  /** The candidate of the open plan: `trees/<release_id>`, verified, never activated. */
  treesDir: string;
  /** Puppet's vardir, lastrunreport... for plan runs (real runs keep state_dir/puppet/). */
  puppetDir: string;
  /** plans/current.json's ETag and text, for the next conditional GET. */
  pointerFile: string;
  /** The plans this host has answered (uploaded a report for): a scheduled poll answers each once. */
  answeredFile: string;
}

export function planPaths(paths: Pick<StatePaths, 'stateDir'>): PlanPaths {
  const dir = join(paths.stateDir, 'plans');
  return {
    dir,
    treesDir: join(dir, 'trees'),
    puppetDir: join(dir, 'puppet'),
    pointerFile: join(dir, 'pointer.json'),
    answeredFile: join(dir, 'answered.json'),
  };
}
