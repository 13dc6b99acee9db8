import { cohortPoint } from '../rollout/cohort.js';
import type { PlanDocument } from './document.js';

/**
 * Which hosts answer a plan (SPEC §10 `--role`, `--sample`), decided by each host and by `plan show`
 * alike from the same data: a role in `roles` (or no roles given), and, with a sample, a stable
 * hash of (plan_id, instance_id) below the percent, exactly like rollout cohorts (rollout/cohort.ts).
 */
export function inPlanScope(plan: Pick<PlanDocument, 'plan_id' | 'roles' | 'sample'>, host: { instance_id: string; roles: readonly string[] }): boolean {
  if (plan.roles.length > 0 && !plan.roles.some((role) => host.roles.includes(role))) return false;
  return plan.sample === null || cohortPoint(plan.plan_id, host.instance_id) < plan.sample;
}

/** Why a host sits outside the plan, for its operator; undefined when it is in. */
export function outOfScopeReason(plan: PlanDocument, host: { instance_id: string; roles: readonly string[] }): string | undefined {
  if (plan.roles.length > 0 && !plan.roles.some((role) => host.roles.includes(role))) {
    return `plan ${plan.plan_id} is for roles ${plan.roles.join(', ')}; this host has ${host.roles.length ? host.roles.join(', ') : 'no roles'}`;
  }
  if (!inPlanScope(plan, host)) return `plan ${plan.plan_id} samples ${plan.sample}% of the hosts and this one is not in the sample`;
  return undefined;
}
