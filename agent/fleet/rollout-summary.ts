import type { Report } from '../report/types.js';
import type { RolloutDocument } from '../rollout/document.js';
import { countsFailed, tallyHosts, type RolloutHost } from '../rollout/tally.js';

/**
 * The rollout line of `fleet status` (SPEC §9). With the signed rollout.json at hand (an operator
 * config whose source is S3), exposure is computed from the cohorts, exactly as the controller does;
 * without it, from what the hosts' latest reports say of the newest rollout they followed.
 */
export interface FleetRollout {
  rollout_id: string;
  state: RolloutDocument['state'];
  step: number;
  steps: number;
  percent: number;
  candidate_release_id: string;
  exposed: number;
  updated: number;
  failed: number;
  from: 'rollout.json' | 'reports';
}

export function fleetRollout(doc: RolloutDocument | null, hosts: readonly RolloutHost[], now: Date, driftCheckEveryMs: number): FleetRollout | null {
  if (doc) {
    const tally = tallyHosts(doc, hosts, now, driftCheckEveryMs);
    return {
      rollout_id: doc.rollout_id,
      state: doc.state,
      step: doc.step,
      steps: doc.steps.length,
      percent: doc.steps[doc.step] ?? 0,
      candidate_release_id: doc.candidate.release_id,
      exposed: tally.filter((host) => host.exposed).length,
      updated: tally.filter((host) => host.on_candidate).length,
      failed: tally.filter((host) => countsFailed(host.standing)).length,
      from: 'rollout.json',
    };
  }
  const followed = hosts.map((host) => host.report?.rollout).filter((rollout): rollout is NonNullable<Report['rollout']> => Boolean(rollout));
  const newest = followed.reduce<NonNullable<Report['rollout']> | undefined>((best, rollout) => (!best || rollout.serial > best.serial ? rollout : best), undefined);
  if (!newest) return null;
  const inIt = hosts.filter((host) => host.report?.rollout?.rollout_id === newest.rollout_id);
  const candidate = newest.candidate_release_id;
  return {
    rollout_id: newest.rollout_id,
    state: newest.state,
    step: newest.step,
    steps: 0,
    percent: newest.percent,
    candidate_release_id: candidate,
    exposed: inIt.filter((host) => host.report?.rollout?.exposed).length,
    updated: hosts.filter((host) => host.report?.apply.release_id === candidate).length,
    failed: inIt.filter((host) => host.report?.rollout?.candidate_failed || host.report?.apply.rolled_back_from === candidate).length,
    from: 'reports',
  };
}

/** `rollout r-… running, step 2/4 (10%), release 1a2b3c4d5e6f: 12 exposed, 10 updated, 1 failed` */
export function formatRolloutLine(rollout: FleetRollout): string {
  const step = rollout.steps > 0 ? `step ${rollout.step + 1}/${rollout.steps}` : `step ${rollout.step + 1}`;
  const source = rollout.from === 'reports' ? ' (from the hosts\' reports)' : '';
  return `rollout ${rollout.rollout_id} ${rollout.state}, ${step} (${rollout.percent}%), release ${rollout.candidate_release_id.slice(0, 12)}: ` +
    `${rollout.exposed} exposed, ${rollout.updated} updated, ${rollout.failed} failed${source}\n`;
}
