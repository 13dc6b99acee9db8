import { describe, it, expect } from '@jest/globals';
import { cohortPoint } from '../../agent/rollout/cohort.js';
import { allowedFailures, decideTick, type TickDecision, type TickInput } from '../../agent/rollout/controller.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';
import type { HostReport, RolloutHost } from '../../agent/rollout/tally.js';
import { startRollout, type StartInput } from '../../agent/rollout/transitions.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const MINUTE = 60_000;
const at = (minutes: number) => new Date(NOW.getTime() + minutes * MINUTE);
const CANDIDATE = { release_id: 'c'.repeat(64), serial: 8 };
const PREVIOUS = { release_id: 'a'.repeat(64), serial: 7 };
const ROLLOUT_ID = 'r-20261125-web';
/** bake 10m + drift_check_every 30m: an exposed host silent past 40 minutes counts as failed. */
const DRIFT_CHECK_EVERY_MS = 30 * MINUTE;

function rolloutOf(overrides: Partial<StartInput> = {}): RolloutDocument {
  return startRollout({
    rolloutId: ROLLOUT_ID,
    serial: 1,
    candidate: CANDIDATE,
    previous: PREVIOUS,
    steps: [10, 50, 100],
    canaryRole: null,
    bake: '10m',
    maxFailed: '0',
    onFailure: 'abort',
    now: NOW,
    by: 'ops@publisher',
    ...overrides,
  });
}

/**
 * `count` instance ids whose cohort point in `rolloutId` lies in [from, to): with steps 10,50,100,
 * [0, 10) is exposed from step 0, [10, 50) from step 1, [50, 100) only at the last step.
 */
function idsIn(from: number, to: number, count: number, rolloutId = ROLLOUT_ID, tag = 'h'): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const id = `i-${tag}${n.toString(16).padStart(16, '0')}`;
    const point = cohortPoint(rolloutId, id);
    if (point >= from && point < to) ids.push(id);
  }
  return ids;
}

type ReportShape = { release?: string; result?: HostReport['result']; rolloutId?: string; rolledBackFrom?: string; candidateFailed?: true; finishedAt?: Date };
function reportOf(shape: ReportShape = {}): HostReport {
  const rolloutId = shape.rolloutId ?? ROLLOUT_ID;
  return {
    result: shape.result ?? 'compliant',
    finished_at: (shape.finishedAt ?? at(2)).toISOString(),
    apply: { release_id: shape.release ?? CANDIDATE.release_id, ...(shape.rolledBackFrom ? { rolled_back_from: shape.rolledBackFrom } : {}) },
    rollout: {
      rollout_id: rolloutId,
      serial: 1,
      step: 0,
      percent: 10,
      state: 'running',
      exposed: true,
      candidate_release_id: CANDIDATE.release_id,
      ...(shape.candidateFailed ? { candidate_failed: true as const } : {}),
    },
  };
}
const host = (instance_id: string, report: HostReport | null, roles: string[] = []): RolloutHost => ({ instance_id, roles, report });
const onCandidate = (ids: readonly string[], shape: ReportShape = {}) => ids.map((id) => host(id, reportOf(shape)));
const onPrevious = (ids: readonly string[]) => ids.map((id) => host(id, reportOf({ release: PREVIOUS.release_id })));

const FIRST_WAVE = idsIn(0, 10, 4);
const SECOND_WAVE = idsIn(10, 50, 4);
const LAST_WAVE = idsIn(50, 100, 4);
/** A fleet at step 0: the first wave healthy on the candidate, everyone else still on previous. */
const healthyFleet = (): RolloutHost[] => [...onCandidate(FIRST_WAVE), ...onPrevious([...SECOND_WAVE, ...LAST_WAVE])];

function decide(rollout: RolloutDocument, hosts: readonly RolloutHost[], now: Date, overrides: Partial<TickInput> = {}): TickDecision {
  return decideTick({ rollout, hosts, now, driftCheckEveryMs: DRIFT_CHECK_EVERY_MS, by: 'tick@publisher', ...overrides });
}
const withFailures = (failures: number, exposed = FIRST_WAVE) => [
  ...onCandidate(exposed.slice(0, failures), { result: 'failed' }),
  ...onCandidate(exposed.slice(failures)),
  ...onPrevious(LAST_WAVE),
];

describe('rollout controller: waiting and advancing', () => {
  it('waits while an exposed host has not reported on the candidate yet, naming it', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(0, 3)), ...onPrevious([FIRST_WAVE[3]!, ...SECOND_WAVE])];
    const decision = decide(rolloutOf(), hosts, at(20));
    expect(decision.action).toBe('wait');
    expect(decision.next).toBeNull();
    expect(decision.reason).toContain('3 of 4 exposed hosts healthy on the candidate');
    expect(decision.reason).toContain(`waiting for ${FIRST_WAVE[3]}`);
  });

  it('waits for an exposed host that has never reported', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, null)];
    const decision = decide(rolloutOf(), hosts, at(20));
    expect(decision.action).toBe('wait');
    expect(decision.reason).toContain(`${FIRST_WAVE[0]} (no report yet)`);
  });

  it('waits out the bake once every exposed host is healthy, and says how long is left', () => {
    const decision = decide(rolloutOf(), healthyFleet(), at(4));
    expect(decision.action).toBe('wait');
    expect(decision.next).toBeNull();
    expect(decision.reason).toBe('step 1/3 (10%): all 4 exposed hosts healthy; baking, 6m left');
  });

  it('advances exactly one step when the bake is over and every exposed host succeeded on the candidate', () => {
    const rollout = rolloutOf();
    const decision = decide(rollout, healthyFleet(), at(10));
    expect(decision.action).toBe('advance');
    expect(decision.next).toMatchObject({ step: 1, state: 'running', serial: 2, step_started_at: at(10).toISOString() });
    expect(decision.reason).toBe('advanced to step 2/3 (50%): step 1/3 (10%), all 4 exposed hosts healthy for 10m');
    expect(rollout.step).toBe(0); // the input document is not changed
  });

  it('counts any non-failing result on the candidate as success', () => {
    const hosts = [
      host(FIRST_WAVE[0]!, reportOf({ result: 'changed' })),
      host(FIRST_WAVE[1]!, reportOf({ result: 'corrected' })),
      host(FIRST_WAVE[2]!, reportOf({ result: 'drifted' })),
      host(FIRST_WAVE[3]!, reportOf({ result: 'compliant' })),
    ];
    const decision = decide(rolloutOf(), hosts, at(10));
    expect(decision.action).toBe('advance');
    expect(decision.hosts.map((tally) => tally.standing)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });

  it('completes at the last step instead of advancing past it', () => {
    const rollout = { ...rolloutOf(), step: 2 };
    const decision = decide(rollout, onCandidate([...FIRST_WAVE, ...SECOND_WAVE, ...LAST_WAVE]), at(10));
    expect(decision.action).toBe('complete');
    expect(decision.next).toMatchObject({ step: 2, state: 'completed', serial: 2 });
    expect(decision.reason).toMatch(/^completed: step 3\/3 \(100%\), all 12 exposed hosts healthy for 10m; current\.json now names release cccccccccccc$/);
  });

  it('advances at once from a step that exposes no host: there is nothing to bake', () => {
    const decision = decide(rolloutOf(), onPrevious(LAST_WAVE), NOW);
    expect(decision.action).toBe('advance');
    expect(decision.next?.step).toBe(1);
    expect(decision.reason).toContain('no host in this step');
  });

  it('advances at once from a canary step when no host carries the canary role', () => {
    const decision = decide(rolloutOf({ canaryRole: 'canary' }), healthyFleet().map((entry) => ({ ...entry, roles: ['web'] })), NOW);
    expect(decision.action).toBe('advance');
    expect(decision.next?.step).toBe(1);
  });

  it('with canaries, bakes the canary step on the canaries alone', () => {
    const canary = host(LAST_WAVE[0]!, reportOf(), ['canary']);
    const rollout = rolloutOf({ canaryRole: 'canary' });
    expect(decide(rollout, [canary, ...onPrevious(FIRST_WAVE)], at(5)).reason).toBe('step 1/4 (canaries (role canary)): all 1 exposed hosts healthy; baking, 5m left');
    expect(decide(rollout, [canary, ...onPrevious(FIRST_WAVE)], at(10)).next?.step).toBe(1);
  });

  it('leaves hosts outside the exposed steps out of the decision', () => {
    const hosts = [...onCandidate(FIRST_WAVE), ...[...SECOND_WAVE, ...LAST_WAVE].map((id) => host(id, null))];
    const decision = decide(rolloutOf(), hosts, at(60));
    expect(decision.action).toBe('advance');
    expect(decision.hosts.filter((tally) => !tally.exposed).every((tally) => tally.standing === 'waiting')).toBe(true);
  });
});

describe('rollout controller: halting', () => {
  it('aborts when more exposed hosts failed than max_failed and on_failure is abort', () => {
    const decision = decide(rolloutOf({ maxFailed: '1' }), withFailures(2), at(3));
    expect(decision.action).toBe('halt');
    expect(decision.next).toMatchObject({ state: 'aborted', step: 0, serial: 2 });
    expect(decision.next?.history.at(-1)?.action).toBe('aborted');
    expect(decision.reason).toContain('2 of 4 exposed hosts failed on release cccccccccccc at step 1/3 (10%), more than max_failed 1');
    expect(decision.reason).toContain('aborted: every host returns to the previous release');
  });

  it('halts, freezing exposure, when on_failure is pause', () => {
    const decision = decide(rolloutOf({ maxFailed: '1', onFailure: 'pause' }), withFailures(2), at(3));
    expect(decision.action).toBe('halt');
    expect(decision.next).toMatchObject({ state: 'halted', step: 0 });
    expect(decision.next?.history.at(-1)?.action).toBe('halted');
    expect(decision.reason).toContain('halted: exposure frozen until resume or abort');
  });

  it('halts on the first failure with the default max_failed 0, before the bake is over', () => {
    const decision = decide(rolloutOf(), withFailures(1), at(1));
    expect(decision.action).toBe('halt');
    expect(decision.reason).toContain(`${FIRST_WAVE[0]} (failed on the candidate)`);
  });

  it('does not halt on exactly max_failed failures (a count)', () => {
    const decision = decide(rolloutOf({ maxFailed: '2' }), withFailures(2), at(10));
    expect(decision.action).not.toBe('halt');
    expect(decision.action).toBe('advance');
  });

  it('counts a result of error on the candidate as a failure', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, reportOf({ result: 'error' }))];
    expect(decide(rolloutOf(), hosts, at(1)).action).toBe('halt');
  });

  it('counts a rollback from the candidate as a failure', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, reportOf({ release: PREVIOUS.release_id, result: 'corrected', rolledBackFrom: CANDIDATE.release_id }))];
    const decision = decide(rolloutOf(), hosts, at(1));
    expect(decision.action).toBe('halt');
    expect(decision.reason).toContain('rolled back from the candidate (corrected)');
  });

  it('counts candidate_failed in the report (a host holding previous after a rollback) as a failure', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, reportOf({ release: PREVIOUS.release_id, candidateFailed: true }))];
    const decision = decide(rolloutOf(), hosts, at(1));
    expect(decision.action).toBe('halt');
    expect(decision.reason).toContain('holds previous: the candidate failed here');
  });

  it('measures a percent max_failed against the hosts exposed now', () => {
    // 20% of 10 exposed hosts is 2: a third failure halts
    const exposed = idsIn(0, 10, 10);
    expect(decide(rolloutOf({ maxFailed: '20%' }), withFailures(2, exposed), at(10)).action).toBe('advance');
    expect(decide(rolloutOf({ maxFailed: '20%' }), withFailures(3, exposed), at(10)).action).toBe('halt');
  });

  it.each([7, 14, 28, 29, 57])('does not halt on exactly %i%% failures of 100 exposed hosts', (percent) => {
    const exposed = idsIn(0, 10, 100);
    const maxFailed = `${percent}%`;
    expect(decide(rolloutOf({ maxFailed }), withFailures(percent, exposed), at(10)).action).toBe('advance');
    expect(decide(rolloutOf({ maxFailed }), withFailures(percent + 1, exposed), at(10)).action).toBe('halt');
  });

  it.each([
    [{ percent: 29 }, 100, 29],
    [{ percent: 2.9 }, 1000, 29],
    [{ percent: 0.7 }, 1000, 7],
    [{ percent: 5.8 }, 500, 29],
    [{ percent: 10 }, 9, 0],
    [{ percent: 100 }, 37, 37],
    [{ percent: 50 }, 0, 0],
    [{ count: 3 }, 1, 3],
  ])('allows %j of %i exposed hosts to fail: %i', (limit, exposed, allowed) => {
    expect(allowedFailures(limit, exposed)).toBe(allowed);
  });

  it('never halts with max_failed 100%', () => {
    expect(decide(rolloutOf({ maxFailed: '100%' }), withFailures(4), at(10)).action).toBe('advance');
  });

  it('rounds a percent down: 5% of 4 exposed hosts allows no failure', () => {
    expect(decide(rolloutOf({ maxFailed: '5%' }), withFailures(1), at(1)).action).toBe('halt');
  });

  it('ignores failures of hosts that are not exposed', () => {
    const hosts = [...onCandidate(FIRST_WAVE), host(LAST_WAVE[0]!, reportOf({ result: 'failed' }))];
    expect(decide(rolloutOf(), hosts, at(10)).action).toBe('advance');
  });
});

describe('rollout controller: silent and disabled hosts', () => {
  const silentFleet = () => [...onCandidate(FIRST_WAVE.slice(1)), ...onPrevious([FIRST_WAVE[0]!])];

  it('counts an exposed host silent past bake + drift_check_every as failed', () => {
    const decision = decide(rolloutOf(), silentFleet(), new Date(at(40).getTime() + 1000));
    expect(decision.action).toBe('halt');
    expect(decision.hosts.find((tally) => tally.instance_id === FIRST_WAVE[0])?.standing).toBe('silent');
    expect(decision.reason).toContain('no report on the candidate within bake + drift_check_every (2400s)');
  });

  it('counts an exposed host that never reported as failed once it is silent past bake + drift_check_every', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, null)];
    expect(decide(rolloutOf(), hosts, at(41)).action).toBe('halt');
  });

  it('still waits for a quiet exposed host until bake + drift_check_every has passed', () => {
    for (const now of [at(11), at(39), at(40)]) {
      const decision = decide(rolloutOf(), silentFleet(), now);
      expect(decision.action).toBe('wait');
      expect(decision.hosts.find((tally) => tally.instance_id === FIRST_WAVE[0])?.standing).toBe('pending');
    }
  });

  it('uses the drift_check_every it is given', () => {
    expect(decide(rolloutOf(), silentFleet(), at(16), { driftCheckEveryMs: 5 * MINUTE }).action).toBe('halt');
    expect(decide(rolloutOf(), silentFleet(), at(16), { driftCheckEveryMs: 10 * MINUTE }).action).toBe('wait');
  });

  it('does not count a silent host as failed within max_failed', () => {
    expect(decide(rolloutOf({ maxFailed: '1' }), silentFleet(), at(41)).action).toBe('advance');
  });

  it('counts a disabled exposed host neither as succeeded nor as failed', () => {
    const hosts = [...onCandidate(FIRST_WAVE.slice(1)), host(FIRST_WAVE[0]!, reportOf({ release: PREVIOUS.release_id, result: 'disabled' }))];
    for (const now of [at(10), at(120)]) {
      const decision = decide(rolloutOf(), hosts, now);
      expect(decision.action).toBe('advance');
      expect(decision.hosts.find((tally) => tally.instance_id === FIRST_WAVE[0])?.standing).toBe('disabled');
      expect(decision.reason).toContain('all 4 exposed hosts healthy');
    }
    expect(decide(rolloutOf(), hosts, at(4)).action).toBe('wait');
  });
});

describe('rollout controller: reports of another rollout', () => {
  const rolledBackEarlier = (rolloutId: string) => [
    ...onCandidate(FIRST_WAVE.slice(1)),
    host(FIRST_WAVE[0]!, reportOf({ release: PREVIOUS.release_id, result: 'corrected', rolloutId, rolledBackFrom: CANDIDATE.release_id, candidateFailed: true })),
  ];

  it('does not count a rollback from the same candidate under an older rollout as a failure of this one', () => {
    const decision = decide(rolloutOf(), rolledBackEarlier('r-20261120-web'), at(10));
    expect(decision.action).toBe('wait');
    expect(decision.hosts.find((tally) => tally.instance_id === FIRST_WAVE[0])?.standing).toBe('pending');
  });

  it('counts the same rollback as a failure when the report names this rollout', () => {
    expect(decide(rolloutOf(), rolledBackEarlier(ROLLOUT_ID), at(10)).action).toBe('halt');
  });

  it('counts a host that only reported under an older rollout as silent once bake + drift_check_every passed', () => {
    expect(decide(rolloutOf(), rolledBackEarlier('r-20261120-web'), at(41)).action).toBe('halt');
  });
});

describe('rollout controller: idempotent ticks', () => {
  it('never advances a second step from its own decision at the same time: the bake restarts', () => {
    const everyoneHealthy = onCandidate([...FIRST_WAVE, ...SECOND_WAVE, ...LAST_WAVE]);
    const first = decide(rolloutOf(), everyoneHealthy, at(10));
    expect(first.next?.step).toBe(1);
    const second = decide(first.next!, everyoneHealthy, at(10));
    expect(second.action).toBe('wait');
    expect(second.next).toBeNull();
    expect(second.reason).toBe('step 2/3 (50%): all 8 exposed hosts healthy; baking, 10m left');
  });

  it('waits for the newly exposed hosts after advancing', () => {
    const first = decide(rolloutOf(), healthyFleet(), at(10));
    const second = decide(first.next!, healthyFleet(), at(10));
    expect(second.action).toBe('wait');
    expect(second.reason).toContain('4 of 8 exposed hosts healthy on the candidate');
  });

  it('gives two ticks deciding from the same document the same step, state and serial: neither skips a step', () => {
    const rollout = rolloutOf();
    const one = decide(rollout, healthyFleet(), at(10), { by: 'tick@host-a' });
    const two = decide(rollout, healthyFleet(), at(10.5), { by: 'tick@host-b' });
    expect(one.action).toBe('advance');
    expect(two.action).toBe('advance');
    for (const decision of [one, two]) expect(decision.next).toMatchObject({ step: 1, state: 'running', serial: 2 });
  });

  it('gives two ticks deciding a halt from the same document the same state', () => {
    const rollout = rolloutOf({ maxFailed: '1' });
    const one = decide(rollout, withFailures(2), at(3));
    const two = decide(rollout, withFailures(2), at(3));
    expect(one.next).toEqual(two.next);
    expect(decide(one.next!, withFailures(2), at(3)).action).toBe('none');
  });

  it('decides the same from the same input', () => {
    expect(decide(rolloutOf(), healthyFleet(), at(10))).toEqual(decide(rolloutOf(), healthyFleet(), at(10)));
  });
});

describe('rollout controller: clock skew', () => {
  // Hosts whose clocks run 5 minutes behind or ahead of the controller's stamp their reports
  // 5 minutes before or after the controller's step_started_at: the decision must not change.
  const fleets = {
    healthy: (finishedAt: Date) => [...onCandidate(FIRST_WAVE, { finishedAt }), ...onPrevious(SECOND_WAVE)],
    'one quiet': (finishedAt: Date) => [...onCandidate(FIRST_WAVE.slice(1), { finishedAt }), host(FIRST_WAVE[0]!, reportOf({ release: PREVIOUS.release_id, finishedAt })), ...onPrevious(SECOND_WAVE)],
    'one failed': (finishedAt: Date) => [...onCandidate(FIRST_WAVE.slice(1), { finishedAt }), host(FIRST_WAVE[0]!, reportOf({ result: 'failed', finishedAt }))],
  };
  const cases = Object.keys(fleets).flatMap((fleet) => [0, 4, 9, 10, 20, 40, 41].map((minute) => [fleet, minute] as const));

  it.each(cases)('decides the same for a %s fleet at minute %d whether reports are stamped 5 minutes before or after the step started', (fleet, minute) => {
    const [behind, inSync, ahead] = [-5, 0, 5].map((skew) => decide(rolloutOf({ maxFailed: '1' }), fleets[fleet as keyof typeof fleets](at(skew)), at(minute)));
    expect(behind).toEqual(inSync);
    expect(ahead).toEqual(inSync);
  });

  it('measures the bake on the controller\'s clock only: a report stamped in the future does not shorten it', () => {
    const hosts = onCandidate(FIRST_WAVE, { finishedAt: at(15) });
    expect(decide(rolloutOf(), hosts, at(9)).action).toBe('wait');
    expect(decide(rolloutOf(), hosts, at(10)).action).toBe('advance');
  });

  it('measures the bake on the controller\'s clock only: a report stamped before the step started does not stretch it', () => {
    const hosts = onCandidate(FIRST_WAVE, { finishedAt: at(-5) });
    expect(decide(rolloutOf(), hosts, at(10)).action).toBe('advance');
  });
});

describe('rollout controller: states and the written decision', () => {
  it.each(['paused', 'halted', 'completed', 'aborted'] as const)('does nothing while the rollout is %s', (state) => {
    const rollout = { ...rolloutOf(), state, reason: `made ${state} by ops` };
    for (const hosts of [healthyFleet(), withFailures(4)]) {
      const decision = decide(rollout, hosts, at(120));
      expect(decision.action).toBe('none');
      expect(decision.next).toBeNull();
      expect(decision.reason).toBe(`rollout ${ROLLOUT_ID} is ${state}: made ${state} by ops`);
    }
  });

  it('still tallies the hosts of a rollout it does not move', () => {
    const decision = decide({ ...rolloutOf(), state: 'paused' }, healthyFleet(), at(5));
    expect(decision.hosts).toHaveLength(12);
    expect(decision.hosts.filter((tally) => tally.standing === 'succeeded')).toHaveLength(4);
  });

  it('writes its reason and a history entry into the next document, with serial + 1', () => {
    const rollout = { ...rolloutOf(), serial: 41 };
    const decision = decide(rollout, healthyFleet(), at(10));
    const next = decision.next!;
    expect(next.serial).toBe(42);
    expect(next.reason).toBe(decision.reason);
    expect(next.updated_at).toBe(at(10).toISOString());
    expect(next.history).toHaveLength(rollout.history.length + 1);
    expect(next.history.slice(0, -1)).toEqual(rollout.history);
    expect(next.history.at(-1)).toEqual({ at: at(10).toISOString(), action: 'advanced', step: 1, state: 'running', reason: decision.reason, by: 'tick@publisher' });
  });

  it('keeps step_started_at when it halts, and restarts it when it advances', () => {
    const halted = decide(rolloutOf({ maxFailed: '1' }), withFailures(2), at(3)).next!;
    expect(halted.step_started_at).toBe(NOW.toISOString());
    const advanced = decide(rolloutOf(), healthyFleet(), at(12)).next!;
    expect(advanced.step_started_at).toBe(at(12).toISOString());
  });

  it('keeps everything else in the document as it was', () => {
    const rollout = rolloutOf();
    const next = decide(rollout, healthyFleet(), at(10)).next!;
    const changed = { serial: rollout.serial, step: rollout.step, step_started_at: rollout.step_started_at, updated_at: rollout.updated_at, reason: rollout.reason, history: rollout.history };
    expect({ ...next, ...changed }).toEqual(rollout);
  });
});
