import { createHash } from 'node:crypto';
import type { RolloutDocument } from './document.js';

/**
 * SPEC §9: cohorts are computed by each host, never listed. A host's point in [0, 100) is a hash of
 * (rollout_id, instance_id): fixed for the whole rollout (a reboot or a wiped state_dir keeps it),
 * independent between rollouts (the same hosts are not always first), and even across the fleet.
 */
export function cohortPoint(rolloutId: string, instanceId: string): number {
  const digest = createHash('sha256').update(`${rolloutId}\0${instanceId}`).digest();
  return (digest.readUIntBE(0, 6) / 2 ** 48) * 100; // 48 uniform bits
}

export interface RolloutMember {
  instance_id: string;
  roles: readonly string[];
}

type Cohorts = Pick<RolloutDocument, 'rollout_id' | 'steps' | 'canary_role'>;

/** Is `host` exposed at step index `step`? Canaries are exposed from step 0 on. */
export function isExposed(rollout: Cohorts, host: RolloutMember, step: number): boolean {
  if (rollout.canary_role && host.roles.includes(rollout.canary_role)) return true;
  const percent = rollout.steps[step] ?? 0;
  return cohortPoint(rollout.rollout_id, host.instance_id) < percent;
}

/** The first step index that exposes `host` (its cohort). */
export function cohortStep(rollout: Cohorts, host: RolloutMember): number {
  for (let step = 0; step < rollout.steps.length; step++) if (isExposed(rollout, host, step)) return step;
  return rollout.steps.length - 1; // the last step is 100: everyone
}
