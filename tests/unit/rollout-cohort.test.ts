import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { cohortPoint, cohortStep, isExposed, type RolloutMember } from '../../agent/rollout/cohort.js';

const STEPS = [1, 10, 50, 100];
const FLEET_SIZE = 10_000;

/** EC2-style instance ids, `i-` + 17 hex digits, spread over the whole id space. */
function scatteredIds(count: number): string[] {
  return Array.from({ length: count }, (_, n) => `i-${createHash('md5').update(`host ${n}`).digest('hex').slice(0, 17)}`);
}
/** Ids that differ only in their last digits, as in a fleet launched in one batch. */
function sequentialIds(count: number): string[] {
  return Array.from({ length: count }, (_, n) => `i-0a1b2c3d${n.toString(16).padStart(9, '0')}`);
}
const member = (instance_id: string, roles: string[] = []): RolloutMember => ({ instance_id, roles });
const rollout = (rollout_id: string, canary_role: string | null = null, steps = STEPS) => ({ rollout_id, steps, canary_role });

/** Share of `ids` exposed at each step, in percentage points. */
function shares(rolloutId: string, ids: readonly string[]): number[] {
  const doc = rollout(rolloutId);
  return STEPS.map((_, step) => (100 * ids.filter((id) => isExposed(doc, member(id), step)).length) / ids.length);
}

describe('rollout cohorts', () => {
  it.each([
    ['scattered', scatteredIds(FLEET_SIZE)],
    ['sequential', sequentialIds(FLEET_SIZE)],
  ])('exposes each step\'s percent of 10,000 %s instance ids, within 1.5 points', (kind, ids) => {
    expect(new Set(ids).size).toBe(FLEET_SIZE);
    for (const id of ids) expect(id).toMatch(/^i-[0-9a-f]{17}$/);
    const measured = shares('r-20261125-web', ids);
    console.log(`cohort shares of ${FLEET_SIZE} ${kind} ids for steps ${STEPS.join(',')}: ${measured.map((share) => `${share.toFixed(2)}%`).join(', ')}`);
    for (const [step, percent] of STEPS.entries()) expect(Math.abs(measured[step]! - percent)).toBeLessThanOrEqual(1.5);
    expect(measured[3]).toBe(100);
  });

  it('puts each host at a point in [0, 100)', () => {
    for (const id of scatteredIds(1000)) {
      const point = cohortPoint('r1', id);
      expect(point).toBeGreaterThanOrEqual(0);
      expect(point).toBeLessThan(100);
    }
  });

  it('keeps a host in the same cohort on every call', () => {
    const doc = rollout('r-20261125-web');
    for (const id of scatteredIds(500)) {
      expect(cohortPoint(doc.rollout_id, id)).toBe(cohortPoint(doc.rollout_id, id));
      expect(cohortStep(doc, member(id))).toBe(cohortStep(doc, member(id)));
    }
  });

  it('never takes exposure back as the rollout advances: exposed at one step means exposed at every later step', () => {
    const doc = rollout('r-20261125-web');
    for (const id of scatteredIds(FLEET_SIZE)) {
      const exposure = STEPS.map((_, step) => isExposed(doc, member(id), step));
      const first = exposure.indexOf(true);
      expect(first).toBe(cohortStep(doc, member(id)));
      expect(exposure).toEqual(STEPS.map((_, step) => step >= first));
    }
  });

  it('exposes every host at the last step (100%)', () => {
    const doc = rollout('r-20261125-web');
    expect(scatteredIds(FLEET_SIZE).every((id) => isExposed(doc, member(id), STEPS.length - 1))).toBe(true);
  });

  it('draws independent cohorts for different rollouts: two 10% cohorts overlap by about 10% of 10%', () => {
    const ids = scatteredIds(FLEET_SIZE);
    const cohort = (rolloutId: string) => new Set(ids.filter((id) => isExposed(rollout(rolloutId), member(id), 1)));
    const first = cohort('r-20261125-web');
    const second = cohort('r-20261126-web');
    const overlap = [...first].filter((id) => second.has(id)).length;
    console.log(`10% cohorts of two rollouts: ${first.size} and ${second.size} hosts, ${overlap} in both (${((100 * overlap) / first.size).toFixed(1)}% of the first)`);
    // independent draws: about 1% of the fleet (100 hosts) is in both; the same draw would be all ~1000
    expect(overlap).toBeGreaterThan(60);
    expect(overlap).toBeLessThan(140);
  });

  it('does not confuse (rollout, instance) pairs whose concatenation is the same', () => {
    expect(cohortPoint('r1', 'i-2')).not.toBe(cohortPoint('r1i', '-2'));
  });

  it('exposes canary-role hosts at step 0 and at every step, whatever their point', () => {
    const doc = rollout('r-20261125-web', 'canary', [0, ...STEPS]);
    const canaries = scatteredIds(200).map((id) => member(id, ['web', 'canary']));
    for (const canary of canaries) {
      for (let step = 0; step < doc.steps.length; step++) expect(isExposed(doc, canary, step)).toBe(true);
      expect(cohortStep(doc, canary)).toBe(0);
    }
  });

  it('with a canary role, step 0 (0%) exposes the canaries alone', () => {
    const doc = rollout('r-20261125-web', 'canary', [0, ...STEPS]);
    const ids = scatteredIds(FLEET_SIZE);
    expect(ids.filter((id) => isExposed(doc, member(id, ['web']), 0))).toEqual([]);
    expect(ids.slice(0, 10).every((id) => isExposed(doc, member(id, ['canary']), 0))).toBe(true);
    // the next step is the first percent: hosts without the role come in then
    const atOnePercent = ids.filter((id) => isExposed(doc, member(id, ['web']), 1)).length;
    expect(Math.abs((100 * atOnePercent) / FLEET_SIZE - 1)).toBeLessThanOrEqual(1.5);
  });

  it('treats the role as a canary only when the rollout names it', () => {
    const doc = rollout('r-20261125-web', null, [0, ...STEPS]);
    expect(scatteredIds(100).some((id) => isExposed(doc, member(id, ['canary']), 0))).toBe(false);
  });
});
