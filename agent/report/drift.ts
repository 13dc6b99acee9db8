/**
 * Corrective vs intentional (SPEC §5), which `puppet apply` never tells us (corrective_change is
 * always false there). The agent remembers, per resource and property, a digest of the desired value
 * the last successful enforce run applied, and which release that run used:
 *
 * - an out-of-sync property whose desired value equals the remembered one is drift: corrective;
 * - a property with no remembered digest, on a resource the last run saw under the same release,
 *   is drift too (the manifests did not change; e.g. a file created with `ensure` whose content later drifts);
 * - anything else is a new desired value: intentional.
 *
 * Flapping: corrective in 3 or more of the last 5 applied runs, this one included.
 */
import { createHash } from 'node:crypto';
import type { Drift, DriftResource, Mode } from './types.js';
import type { ParsedPuppetReport, PuppetResource } from '../apply/parse-report.js';

export interface DriftState {
  version: 1;
  /** The release the remembered values came from. */
  release_id: string | null;
  resources: Record<string, { props: Record<string, string> }>;
  /** Corrective resources of each of the last applied runs, oldest first. */
  recent_corrections: string[][];
}

export const FLAPPING_WINDOW = 5;
export const FLAPPING_THRESHOLD = 3;

export function emptyDriftState(): DriftState {
  return { version: 1, release_id: null, resources: {}, recent_corrections: [] };
}

export function digestValue(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value ?? null)).digest('hex');
}

export function classifyDrift(
  parsed: ParsedPuppetReport,
  state: DriftState,
  context: { mode: Mode; releaseId: string },
): { drift: Drift; nextState: DriftState } {
  const sameRelease = state.release_id === context.releaseId;
  const isCorrective = (resource: PuppetResource): boolean => {
    const known = state.resources[resource.resource];
    if (!known) return false;
    return resource.events.some((event) => {
      const remembered = known.props[event.property];
      return remembered === undefined ? sameRelease : remembered === digestValue(event.desired_value);
    });
  };
  const listed = parsed.resources.filter((resource) => resource.outOfSync || resource.failed);
  const corrective = new Set(listed.filter((resource) => resource.outOfSync && isCorrective(resource)).map((r) => r.resource));
  const recent = [...state.recent_corrections, [...corrective]].slice(-FLAPPING_WINDOW);
  const flapping = new Set([...corrective].filter((name) => recent.filter((run) => run.includes(name)).length >= FLAPPING_THRESHOLD));

  const resources: DriftResource[] = listed.map((resource) => ({
    resource: resource.resource,
    type: resource.type,
    title: resource.title,
    manifest_file: resource.file,
    line: resource.line,
    corrective_change: corrective.has(resource.resource),
    flapping: flapping.has(resource.resource),
    failed: resource.failed,
    events: resource.events.map((event) => ({ ...event })),
  }));
  const outOfSync = listed.filter((resource) => resource.outOfSync).length;
  const drift: Drift = {
    resources_total: parsed.resources.length,
    out_of_sync: outOfSync,
    corrective: corrective.size,
    intentional: outOfSync - corrective.size,
    failed: listed.filter((resource) => resource.failed).length,
    flapping: flapping.size,
    resources,
  };
  return { drift, nextState: nextDriftState(parsed, state, context, recent) };
}

/** Only an enforce run that applied without failing teaches the agent new desired values. */
function nextDriftState(parsed: ParsedPuppetReport, state: DriftState, context: { mode: Mode; releaseId: string }, recent: string[][]): DriftState {
  const failedRun = parsed.resources.some((resource) => resource.failed);
  if (context.mode === 'noop' || failedRun) return { ...state, recent_corrections: recent };
  const resources: DriftState['resources'] = {};
  for (const resource of parsed.resources) {
    const props = { ...(state.resources[resource.resource]?.props ?? {}) };
    for (const event of resource.events) {
      if (event.status === 'success') props[event.property] = digestValue(event.desired_value);
    }
    resources[resource.resource] = { props };
  }
  return { version: 1, release_id: context.releaseId, resources, recent_corrections: recent };
}
