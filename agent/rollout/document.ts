import { AgentError } from '../errors.js';
import { parseDuration } from '../config/duration.js';
import type { ReleasePointer } from '../release/manifest.js';

/**
 * SPEC §9: `<prefix>/rollout.json` (+ `rollout.sig`), the signed state of one progressive rollout.
 * Written only by publisher commands (`rollout start|advance|pause|resume|abort|tick`); read by every
 * host at each poll and by the controller. Its serial only grows, so an older document cannot be replayed.
 */
export const ROLLOUT_SCHEMA = 'agent.rollout/v1';

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed' | 'aborted';
export type OnFailure = 'abort' | 'pause';

/** `--max-failed`: a count of exposed hosts, or a percentage of them. */
export type MaxFailed = { count: number } | { percent: number };

export interface RolloutDecisionEntry {
  at: string;
  /** What changed: started, advanced, completed, halted, paused, resumed, aborted. */
  action: string;
  step: number;
  state: RolloutState;
  reason: string;
  by: string;
}

export interface RolloutDocument {
  schema: typeof ROLLOUT_SCHEMA;
  rollout_id: string;
  serial: number;
  candidate: ReleasePointer;
  previous: ReleasePointer;
  /** Percent of the fleet exposed at each step; with a canary_role, step 0 is 0 (the canaries alone). */
  steps: number[];
  /** Index into `steps` of the step exposed now. */
  step: number;
  canary_role: string | null;
  /** How long a step must run healthy before the next one, e.g. "10m". */
  bake: string;
  /** "2" (hosts) or "5%" (of the exposed hosts): more failures than this halt the rollout. */
  max_failed: string;
  on_failure: OnFailure;
  state: RolloutState;
  started_at: string;
  step_started_at: string;
  updated_at: string;
  /** Why the rollout is in its state: the reason of the last decision. */
  reason: string;
  created_by: string;
  /** Every decision that changed the document, oldest first. */
  history: RolloutDecisionEntry[];
}

/** Rollouts still moving or held: a second `start` is refused while one of these is in force. */
export function isOpen(state: RolloutState): boolean {
  return state === 'running' || state === 'paused' || state === 'halted';
}

const SHA256 = /^[0-9a-f]{64}$/;
const STATES: readonly RolloutState[] = ['running', 'paused', 'halted', 'completed', 'aborted'];

/** The exact bytes that are signed and stored: stable key order, one trailing newline. */
export function serializeRollout(document: RolloutDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** `"5%"` → {percent: 5}, `"2"` → {count: 2}; undefined when it is neither (or a percent over 100). */
export function parseMaxFailed(text: string): MaxFailed | undefined {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  if (match[2] === '%') return value <= 100 ? { percent: value } : undefined;
  return Number.isSafeInteger(value) ? { count: value } : undefined;
}

/** Why `steps` is not a valid list of percents, or undefined: 1-100 each, strictly increasing, ending at 100. */
export function stepsProblem(steps: readonly number[]): string | undefined {
  if (steps.length === 0) return 'expected at least one step';
  for (const [index, percent] of steps.entries()) {
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100) return `step ${index + 1} is ${percent}: each step is a percent of the fleet, more than 0 and at most 100`;
    if (index > 0 && percent <= steps[index - 1]!) return `steps must increase: ${steps[index - 1]} then ${percent}`;
  }
  if (steps[steps.length - 1] !== 100) return `the last step is ${steps[steps.length - 1]}, not 100: a rollout ends with the whole fleet`;
  return undefined;
}

/**
 * Parse and check a rollout document's shape. `where` names the object in every message; every
 * problem is a `source_rejected` error, so a host refuses the document and keeps what it has.
 */
export function parseRollout(text: string, where: string): RolloutDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw rejected(`${where}: not valid JSON (${(error as Error).message})`);
  }
  const doc = data as Partial<RolloutDocument> | null;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw rejected(`${where}: expected a JSON object`);
  const fail = (key: string, expected: string, got: unknown) => rejected(`${where}: ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  if (doc.schema !== ROLLOUT_SCHEMA) throw fail('schema', `"${ROLLOUT_SCHEMA}"`, doc.schema);
  if (typeof doc.rollout_id !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(doc.rollout_id)) throw fail('rollout_id', 'an id of letters, digits, . _ -', doc.rollout_id);
  if (!Number.isSafeInteger(doc.serial) || (doc.serial as number) < 1) throw fail('serial', 'a whole number >= 1', doc.serial);
  for (const key of ['candidate', 'previous'] as const) {
    const pointer = doc[key] as Partial<ReleasePointer> | undefined;
    if (!pointer || typeof pointer.release_id !== 'string' || !SHA256.test(pointer.release_id) || !Number.isSafeInteger(pointer.serial)) {
      throw fail(key, '{release_id: 64 hex digits, serial: a whole number}', pointer);
    }
  }
  if (!Array.isArray(doc.steps) || doc.steps.length === 0 || doc.steps.some((step) => typeof step !== 'number' || step < 0 || step > 100)) throw fail('steps', 'a list of percents', doc.steps);
  if (!Number.isSafeInteger(doc.step) || (doc.step as number) < 0 || (doc.step as number) >= doc.steps.length) throw fail('step', `an index into steps (0-${doc.steps.length - 1})`, doc.step);
  if (doc.canary_role !== null && typeof doc.canary_role !== 'string') throw fail('canary_role', 'a role name or null', doc.canary_role);
  if (typeof doc.bake !== 'string' || parseDuration(doc.bake) === undefined) throw fail('bake', 'a duration like 10m', doc.bake);
  if (typeof doc.max_failed !== 'string' || !parseMaxFailed(doc.max_failed)) throw fail('max_failed', 'a count or a percent like 5%', doc.max_failed);
  if (doc.on_failure !== 'abort' && doc.on_failure !== 'pause') throw fail('on_failure', 'abort or pause', doc.on_failure);
  if (!STATES.includes(doc.state as RolloutState)) throw fail('state', STATES.join(', '), doc.state);
  for (const key of ['started_at', 'step_started_at', 'updated_at'] as const) {
    if (typeof doc[key] !== 'string' || Number.isNaN(Date.parse(doc[key] as string))) throw fail(key, 'an ISO 8601 time', doc[key]);
  }
  for (const key of ['reason', 'created_by'] as const) if (typeof doc[key] !== 'string') throw fail(key, 'a string', doc[key]);
  if (!Array.isArray(doc.history)) throw fail('history', 'a list of decisions', doc.history);
  return doc as RolloutDocument;
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}
