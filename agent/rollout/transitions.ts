import type { ReleasePointer } from '../release/manifest.js';
import { ROLLOUT_SCHEMA, type OnFailure, type RolloutDocument, type RolloutState } from './document.js';

/**
 * Every change to a rollout document, pure: the next document has serial + 1, the new state, the
 * reason, and one more history entry. Commands sign and write what these return.
 */
export interface Change {
  action: 'started' | 'advanced' | 'completed' | 'halted' | 'paused' | 'resumed' | 'aborted';
  state: RolloutState;
  step: number;
  reason: string;
  now: Date;
  by: string;
}

export function changeRollout(doc: RolloutDocument, change: Change): RolloutDocument {
  const at = change.now.toISOString();
  const restartsBake = change.step !== doc.step || change.action === 'resumed';
  return {
    ...doc,
    serial: doc.serial + 1,
    step: change.step,
    state: change.state,
    step_started_at: restartsBake ? at : doc.step_started_at,
    updated_at: at,
    reason: change.reason,
    history: [...doc.history, { at, action: change.action, step: change.step, state: change.state, reason: change.reason, by: change.by }],
  };
}

export interface StartInput {
  rolloutId: string;
  /** Higher than any rollout document in the bucket, so hosts that saw an older one accept it. */
  serial: number;
  candidate: ReleasePointer;
  previous: ReleasePointer;
  steps: number[];
  canaryRole: string | null;
  bake: string;
  maxFailed: string;
  onFailure: OnFailure;
  now: Date;
  by: string;
}

/** The first document of a rollout. With a canary role, step 0 (0%) exposes the canaries alone. */
export function startRollout(input: StartInput): RolloutDocument {
  const at = input.now.toISOString();
  const steps = input.canaryRole ? [0, ...input.steps] : [...input.steps];
  const first = input.canaryRole ? `the canaries (role ${input.canaryRole})` : `${steps[0]}% of the fleet`;
  const reason = `started: ${first} get release ${input.candidate.release_id.slice(0, 12)}`;
  return {
    schema: ROLLOUT_SCHEMA,
    rollout_id: input.rolloutId,
    serial: input.serial,
    candidate: input.candidate,
    previous: input.previous,
    steps,
    step: 0,
    canary_role: input.canaryRole,
    bake: input.bake,
    max_failed: input.maxFailed,
    on_failure: input.onFailure,
    state: 'running',
    started_at: at,
    step_started_at: at,
    updated_at: at,
    reason,
    created_by: input.by,
    history: [{ at, action: 'started', step: 0, state: 'running', reason, by: input.by }],
  };
}

/** What one step exposes, for messages: "canaries", "10%". */
export function describeStep(doc: Pick<RolloutDocument, 'steps' | 'canary_role'>, step: number): string {
  const percent = doc.steps[step] ?? 0;
  if (doc.canary_role && step === 0) return `canaries (role ${doc.canary_role})`;
  return `${percent}%`;
}
