/**
 * Corrective vs intentional (SPEC §5), which `puppet apply` never tells us (corrective_change is always
 * false there). Pure: the state comes in and the next state goes out; drift-state.ts stores it.
 *
 * DriftState (state_dir/drift-state.json) remembers what the last enforce runs taught:
 *   release_id   the release of the last enforce run that taught anything
 *   resources    every resource of that run: {props: {property: sha256 of the desired value}}, one digest
 *                per property a successful event enforced (a File's `ensure` event also yields the content
 *                checksum Puppet names in its message), digests of earlier runs kept
 *   recent_corrections  the corrective resources of each of the last 5 enforce runs, oldest first
 *
 * An out-of-sync resource is corrective when one of its events
 * - has a remembered digest for (resource, property) equal to the digest of its desired value, or
 * - has no digest for that property, on a resource remembered under the same release: the manifests did
 *   not change, so the host did (a file created with `ensure` whose content drifts later);
 * otherwise it is intentional. Actions that Puppet reports out of sync every time they run (an Exec's
 * `returns`, a Notify's `message`) are never corrective: nothing on the host drifted.
 *
 * Who teaches: enforce runs only. A noop run changed nothing, so it teaches nothing and does not enter
 * the flapping window. A failed or skipped resource teaches nothing either (its desired value was not
 * reached); it keeps its old entry only while the release stays the same. A run whose whole catalog
 * failed (no resources in the report) leaves the state alone.
 *
 * Flapping: corrective in 3 or more of the last 5 enforce runs, this one included (for a noop run: would
 * be, if this run were enforced).
 */
import { createHash } from 'node:crypto';
import type { Drift, DriftResource, Mode } from './types.js';
import type { ParsedPuppetReport, PuppetEvent, PuppetResource } from '../apply/parse-report.js';

export interface DriftState {
  version: 1;
  release_id: string | null;
  resources: Record<string, { props: Record<string, string> }>;
  recent_corrections: string[][];
}

export interface DriftContext {
  mode: Mode;
  releaseId: string;
}

export const FLAPPING_WINDOW = 5;
export const FLAPPING_THRESHOLD = 3;
/** `Type.property` pairs that are actions, not state: out of sync whenever they run. */
const ACTIONS = new Set(['Exec.returns', 'Notify.message']);
/** Puppet's message for a file it created: `defined content as '{sha256}...'`. */
const CREATED_CONTENT = /^defined content as '(\{[a-z0-9]+\}[0-9a-f]+)'$/;

export function emptyDriftState(): DriftState {
  return { version: 1, release_id: null, resources: {}, recent_corrections: [] };
}

export function digestValue(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value ?? null)).digest('hex');
}

export function classifyDrift(parsed: ParsedPuppetReport, state: DriftState, context: DriftContext): { drift: Drift; nextState: DriftState } {
  const listed = parsed.resources.filter((resource) => resource.outOfSync || resource.failed);
  const corrective = new Set(
    listed.filter((resource) => resource.outOfSync && isCorrective(resource, state, context)).map((resource) => resource.resource),
  );
  const window = [...state.recent_corrections, [...corrective]].slice(-FLAPPING_WINDOW);
  const flapping = new Set(
    [...corrective].filter((name) => window.filter((run) => run.includes(name)).length >= FLAPPING_THRESHOLD),
  );
  const outOfSync = listed.filter((resource) => resource.outOfSync).length;
  const drift: Drift = {
    resources_total: parsed.resources.length,
    out_of_sync: outOfSync,
    corrective: corrective.size,
    intentional: outOfSync - corrective.size,
    failed: listed.filter((resource) => resource.failed).length,
    flapping: flapping.size,
    resources: listed.map((resource) => driftResource(resource, corrective.has(resource.resource), flapping.has(resource.resource))),
  };
  return { drift, nextState: nextDriftState(parsed, state, context, window) };
}

function isCorrective(resource: PuppetResource, state: DriftState, context: DriftContext): boolean {
  const known = state.resources[resource.resource];
  if (!known) return false;
  return resource.events.some((event) => {
    if (ACTIONS.has(`${resource.type}.${event.property}`)) return false;
    const remembered = known.props[event.property];
    return remembered === undefined ? state.release_id === context.releaseId : remembered === digestValue(event.desired_value);
  });
}

function driftResource(resource: PuppetResource, corrective: boolean, flapping: boolean): DriftResource {
  return {
    resource: resource.resource,
    type: resource.type,
    title: resource.title,
    manifest_file: resource.file,
    line: resource.line,
    corrective_change: corrective,
    flapping,
    failed: resource.failed,
    events: resource.events.map((event) => ({ ...event })),
  };
}

function nextDriftState(parsed: ParsedPuppetReport, state: DriftState, context: DriftContext, window: string[][]): DriftState {
  if (context.mode === 'noop') return state;
  if (parsed.status === 'failed' && parsed.resources.length === 0) return state;
  const sameRelease = state.release_id === context.releaseId;
  const resources: DriftState['resources'] = {};
  for (const resource of parsed.resources) {
    const previous = state.resources[resource.resource]?.props;
    if (resource.failed || resource.skipped) {
      if (previous && sameRelease) resources[resource.resource] = { props: { ...previous } };
      continue;
    }
    const props = { ...previous };
    for (const event of resource.events.filter((candidate) => candidate.status === 'success')) {
      Object.assign(props, learnedDigests(resource, event));
    }
    resources[resource.resource] = { props };
  }
  return { version: 1, release_id: context.releaseId, resources, recent_corrections: window };
}

/** What a successful event proves Puppet enforced: its own property, and for a created file its content. */
function learnedDigests(resource: PuppetResource, event: PuppetEvent): Record<string, string> {
  const learned = { [event.property]: digestValue(event.desired_value) };
  const created = resource.type === 'File' && event.property === 'ensure' ? CREATED_CONTENT.exec(event.message) : null;
  if (created?.[1]) learned.content = digestValue(created[1]);
  return learned;
}
