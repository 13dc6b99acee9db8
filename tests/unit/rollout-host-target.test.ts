import { describe, it, expect } from '@jest/globals';
import { cohortPoint, type RolloutMember } from '../../agent/rollout/cohort.js';
import type { RolloutDocument, RolloutState } from '../../agent/rollout/document.js';
import { decideTarget, type TargetInput } from '../../agent/rollout/host-target.js';
import { startRollout } from '../../agent/rollout/transitions.js';
import type { FailedRelease } from '../../agent/release/failed-releases.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const PREVIOUS = { release_id: 'a'.repeat(64), serial: 7 };
const CANDIDATE = { release_id: 'c'.repeat(64), serial: 8 };
const ROLLOUT_ID = 'r-20261125-web';

function rolloutOf(state: RolloutState = 'running', canaryRole: string | null = null): RolloutDocument {
  const doc = startRollout({
    rolloutId: ROLLOUT_ID,
    serial: 3,
    candidate: CANDIDATE,
    previous: PREVIOUS,
    steps: [10, 50, 100],
    canaryRole,
    bake: '10m',
    maxFailed: '0',
    onFailure: 'abort',
    now: NOW,
    by: 'ops@publisher',
  });
  return { ...doc, state };
}

/** A host whose cohort point in the rollout lies in [from, to): [0, 10) is exposed at step 0. */
function hostIn(from: number, to: number, roles: string[] = ['web']): RolloutMember {
  for (let n = 0; ; n++) {
    const instance_id = `i-0f${n.toString(16).padStart(15, '0')}`;
    const point = cohortPoint(ROLLOUT_ID, instance_id);
    if (point >= from && point < to) return { instance_id, roles };
  }
}
const EXPOSED = hostIn(0, 10);
const NOT_EXPOSED = hostIn(50, 100);
const CANARY = hostIn(50, 100, ['web', 'canary']);

const mark = (release_id: string, named_by: string): FailedRelease => ({ release_id, named_by, failed_at: '2026-11-25T10:03:00.000Z', error: 'puppet exit 6' });

function target(overrides: Partial<TargetInput>) {
  return decideTarget({ pointer: PREVIOUS, rollout: null, host: EXPOSED, failed: [], retryFailed: false, ...overrides });
}

describe('host target: without a rollout', () => {
  it('follows current.json when there is no rollout', () => {
    expect(target({})).toEqual({ release: PREVIOUS, namedBy: 'current.json serial 7', allowDowngrade: false });
  });

  it('follows current.json once the rollout completed, and reports no rollout', () => {
    const decided = target({ pointer: CANDIDATE, rollout: rolloutOf('completed'), host: NOT_EXPOSED });
    expect(decided).toEqual({ release: CANDIDATE, namedBy: 'current.json serial 8', allowDowngrade: false });
  });

  it('follows a current.json published after the rollout\'s candidate, even while the rollout is open', () => {
    const newer = { release_id: 'e'.repeat(64), serial: 9 };
    for (const state of ['running', 'paused', 'halted', 'aborted'] as const) {
      for (const host of [EXPOSED, NOT_EXPOSED]) {
        expect(target({ pointer: newer, rollout: rolloutOf(state), host })).toEqual({ release: newer, namedBy: 'current.json serial 9', allowDowngrade: false });
      }
    }
  });

  it('keeps following the rollout while current.json names the candidate itself', () => {
    expect(target({ pointer: CANDIDATE, rollout: rolloutOf(), host: NOT_EXPOSED }).release).toEqual(PREVIOUS);
  });
});

describe('host target: an open rollout', () => {
  it('sends an exposed host to the candidate, without a downgrade', () => {
    const decided = target({ rollout: rolloutOf(), host: EXPOSED });
    expect(decided.release).toEqual(CANDIDATE);
    expect(decided.allowDowngrade).toBe(false);
    expect(decided.namedBy).toBe(`rollout ${ROLLOUT_ID}`);
    expect(decided.held).toBeUndefined();
    expect(decided.rollout).toEqual({ rollout_id: ROLLOUT_ID, serial: 3, step: 0, percent: 10, state: 'running', exposed: true, candidate_release_id: CANDIDATE.release_id });
  });

  it('keeps a host that is not exposed on previous, allowed back down if it was on something newer', () => {
    const decided = target({ rollout: rolloutOf(), host: NOT_EXPOSED });
    expect(decided.release).toEqual(PREVIOUS);
    expect(decided.allowDowngrade).toBe(true);
    expect(decided.rollout).toMatchObject({ exposed: false, step: 0, percent: 10 });
  });

  it('exposes a host when the rollout reaches its step', () => {
    const host = hostIn(10, 50);
    expect(target({ rollout: rolloutOf(), host }).release).toEqual(PREVIOUS);
    const decided = target({ rollout: { ...rolloutOf(), step: 1, serial: 4 }, host });
    expect(decided.release).toEqual(CANDIDATE);
    expect(decided.rollout).toMatchObject({ exposed: true, step: 1, percent: 50, serial: 4 });
  });

  it('sends a canary to the candidate at the canary step (0%)', () => {
    const rollout = rolloutOf('running', 'canary');
    expect(target({ rollout, host: CANARY })).toMatchObject({ release: CANDIDATE, allowDowngrade: false, rollout: { exposed: true, percent: 0 } });
    expect(target({ rollout, host: EXPOSED })).toMatchObject({ release: PREVIOUS, rollout: { exposed: false } });
  });

  it.each(['paused', 'halted'] as const)('keeps exposure as it is while the rollout is %s', (state) => {
    const rollout = rolloutOf(state);
    expect(target({ rollout, host: EXPOSED })).toMatchObject({ release: CANDIDATE, allowDowngrade: false, rollout: { exposed: true, state } });
    expect(target({ rollout, host: NOT_EXPOSED })).toMatchObject({ release: PREVIOUS, allowDowngrade: true, rollout: { exposed: false, state } });
  });
});

describe('host target: an aborted rollout', () => {
  it.each([
    ['an exposed host', EXPOSED],
    ['a host that was never exposed', NOT_EXPOSED],
    ['a canary', CANARY],
  ])('sends %s back to previous, allowed past the serial check', (_, host) => {
    const decided = target({ rollout: rolloutOf('aborted', 'canary'), host, pointer: PREVIOUS });
    expect(decided.release).toEqual(PREVIOUS);
    expect(decided.allowDowngrade).toBe(true);
    expect(decided.rollout).toMatchObject({ state: 'aborted', exposed: false });
  });

  it('sends every host back to previous even at the last step', () => {
    const decided = target({ rollout: { ...rolloutOf('aborted'), step: 2 }, host: NOT_EXPOSED });
    expect(decided.release).toEqual(PREVIOUS);
    expect(decided.allowDowngrade).toBe(true);
  });
});

describe('host target: releases that failed here', () => {
  const failedUnderThisRollout = [mark(CANDIDATE.release_id, `rollout ${ROLLOUT_ID}`)];

  it('holds the candidate an exposed host rolled back from while the same rollout names it', () => {
    const decided = target({ rollout: rolloutOf(), host: EXPOSED, failed: failedUnderThisRollout });
    expect(decided.release).toBeNull();
    expect(decided.held).toBe(
      `release cccccccccccc failed here at 2026-11-25T10:03:00.000Z and was rolled back; it is not tried again until something newer than rollout ${ROLLOUT_ID} names it (or \`agent run-now\` on this host)`,
    );
    expect(decided.rollout?.candidate_failed).toBe(true);
    expect(decided.rollout?.exposed).toBe(true);
  });

  it('tries the candidate again when a new rollout names it', () => {
    const decided = target({ rollout: rolloutOf(), host: EXPOSED, failed: [mark(CANDIDATE.release_id, 'rollout r-20261120-web')] });
    expect(decided.release).toEqual(CANDIDATE);
    expect(decided.held).toBeUndefined();
    expect(decided.rollout?.candidate_failed).toBeUndefined();
  });

  it('tries the candidate again when the operator asks with retryFailed', () => {
    const decided = target({ rollout: rolloutOf(), host: EXPOSED, failed: failedUnderThisRollout, retryFailed: true });
    expect(decided.release).toEqual(CANDIDATE);
    expect(decided.held).toBeUndefined();
    expect(decided.rollout?.candidate_failed).toBeUndefined();
  });

  it('does not hold previous for a host that is not exposed because the candidate failed', () => {
    const decided = target({ rollout: rolloutOf(), host: NOT_EXPOSED, failed: failedUnderThisRollout });
    expect(decided.release).toEqual(PREVIOUS);
    expect(decided.rollout?.candidate_failed).toBeUndefined();
  });

  it('holds a release published to current.json that failed here under the same publish', () => {
    const published = { release_id: 'e'.repeat(64), serial: 9 };
    const decided = target({ pointer: published, failed: [mark(published.release_id, 'current.json serial 9')] });
    expect(decided.release).toBeNull();
    expect(decided.held).toContain('until something newer than current.json serial 9 names it');
    expect(decided.rollout).toBeUndefined();
  });

  it('tries a published release again when a newer current.json names it', () => {
    const republished = { release_id: 'e'.repeat(64), serial: 10 };
    expect(target({ pointer: republished, failed: [mark(republished.release_id, 'current.json serial 9')] }).release).toEqual(republished);
  });

  it('ignores marks of other releases', () => {
    const decided = target({ rollout: rolloutOf(), host: EXPOSED, failed: [mark('d'.repeat(64), `rollout ${ROLLOUT_ID}`)] });
    expect(decided.release).toEqual(CANDIDATE);
  });
});
