import { parseDuration, formatDuration } from '../config/duration.js';
import { parseMaxFailed, type MaxFailed, type RolloutDocument } from './document.js';
import { countsFailed, tallyHosts, type HostTally, type RolloutHost } from './tally.js';
import { changeRollout, describeStep } from './transitions.js';

/**
 * The controller (`agent rollout tick`, SPEC §9): one decision from the rollout document and the
 * hosts' latest reports, pure. Any number of ticks converge: a decision moves at most one step and
 * restarts the bake, so a tick that reads the document another tick just wrote waits out the new bake.
 *
 *   running ── all exposed hosts healthy on the candidate, bake over ──► next step ─ last ─► completed
 *      │
 *      └── more than max_failed exposed hosts failed (or silent) ──► aborted (on_failure abort) | halted (pause)
 */
export type TickAction = 'none' | 'wait' | 'advance' | 'complete' | 'halt';

export interface TickDecision {
  action: TickAction;
  reason: string;
  /** The document to write, or null when nothing changes. */
  next: RolloutDocument | null;
  hosts: HostTally[];
}

export interface TickInput {
  rollout: RolloutDocument;
  hosts: readonly RolloutHost[];
  now: Date;
  /** The operator config's drift_check_every: an exposed host silent past bake + this counts as failed. */
  driftCheckEveryMs: number;
  by: string;
}

export function decideTick(input: TickInput): TickDecision {
  const { rollout, now, by } = input;
  const hosts = tallyHosts(rollout, input.hosts, now, input.driftCheckEveryMs);
  if (rollout.state !== 'running') return { action: 'none', reason: `rollout ${rollout.rollout_id} is ${rollout.state}: ${rollout.reason}`, next: null, hosts };

  const exposed = hosts.filter((host) => host.exposed);
  const failed = exposed.filter((host) => countsFailed(host.standing));
  const where = `step ${rollout.step + 1}/${rollout.steps.length} (${describeStep(rollout, rollout.step)})`;
  const limit = parseMaxFailed(rollout.max_failed) ?? { count: 0 };
  if (failed.length > allowedFailures(limit, exposed.length)) {
    const abort = rollout.on_failure === 'abort';
    const reason =
      `${failed.length} of ${exposed.length} exposed hosts failed on release ${rollout.candidate.release_id.slice(0, 12)} at ${where}, ` +
      `more than max_failed ${rollout.max_failed}: ${listHosts(failed)}; ${abort ? 'aborted: every host returns to the previous release' : 'halted: exposure frozen until resume or abort'}`;
    const next = changeRollout(rollout, { action: abort ? 'aborted' : 'halted', state: abort ? 'aborted' : 'halted', step: rollout.step, reason, now, by });
    return { action: 'halt', reason, next, hosts };
  }

  const waiting = exposed.filter((host) => host.standing === 'pending');
  if (waiting.length > 0) {
    const healthy = exposed.filter((host) => host.standing === 'succeeded').length;
    return { action: 'wait', reason: `${where}: ${healthy} of ${exposed.length} exposed hosts healthy on the candidate; waiting for ${listHosts(waiting)}`, next: null, hosts };
  }
  const bakeMs = parseDuration(rollout.bake) ?? 0;
  const baked = now.getTime() - Date.parse(rollout.step_started_at);
  // a step that exposes no host has nothing to bake: waiting would only delay the next wave
  if (exposed.length > 0 && baked < bakeMs) {
    return { action: 'wait', reason: `${where}: all ${exposed.length} exposed hosts healthy; baking, ${formatDuration(Math.ceil((bakeMs - baked) / 1000) * 1000)} left`, next: null, hosts };
  }
  const healthy = exposed.length === 0 ? 'no host in this step' : `all ${exposed.length} exposed hosts healthy for ${rollout.bake}`;
  if (rollout.step === rollout.steps.length - 1) {
    const reason = `completed: ${where}, ${healthy}; current.json now names release ${rollout.candidate.release_id.slice(0, 12)}`;
    return { action: 'complete', reason, next: changeRollout(rollout, { action: 'completed', state: 'completed', step: rollout.step, reason, now, by }), hosts };
  }
  const reason = `advanced to step ${rollout.step + 2}/${rollout.steps.length} (${describeStep(rollout, rollout.step + 1)}): ${where}, ${healthy}`;
  return { action: 'advance', reason, next: changeRollout(rollout, { action: 'advanced', state: 'running', step: rollout.step + 1, reason, now, by }), hosts };
}

/**
 * SPEC §9: more than max_failed halts; a percent is of the hosts exposed now, rounded down. The
 * 1e-9 absorbs binary rounding so exactly N% is N: 0.29 * 100 is 28.999999999999996 in floating point.
 */
export function allowedFailures(limit: MaxFailed, exposed: number): number {
  return 'count' in limit ? limit.count : Math.floor((limit.percent * exposed) / 100 + 1e-9);
}

function listHosts(hosts: readonly HostTally[]): string {
  const shown = hosts.slice(0, 5).map((host) => `${host.instance_id} (${host.detail})`).join(', ');
  return hosts.length > 5 ? `${shown} and ${hosts.length - 5} more` : shown;
}
