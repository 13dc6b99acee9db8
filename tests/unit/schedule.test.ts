import { describe, it, expect } from '@jest/globals';
import { splayOffsetMs } from '../../agent/schedule/splay.js';
import { backoffDelayMs } from '../../agent/schedule/backoff.js';
import { applyReason, runFailed, type ApplyDecisionInput } from '../../agent/schedule/apply-policy.js';

describe('splayOffsetMs', () => {
  it('is stable for a host and within [0, splay)', () => {
    expect(splayOffsetMs('i-0abc', 300_000)).toBe(splayOffsetMs('i-0abc', 300_000));
    for (let i = 0; i < 1000; i++) {
      const offset = splayOffsetMs(`i-${i}`, 300_000);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(300_000);
    }
    expect(splayOffsetMs('i-0abc', 0)).toBe(0);
  });

  it('spreads 10,000 hosts over a 5-minute window evenly: busiest 10 s bucket ≤ 1.3 × the mean', () => {
    const buckets = new Array<number>(30).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const id = `i-${(0x1000000 + i * 7919).toString(16).padStart(17, '0')}`;
      buckets[Math.floor(splayOffsetMs(id, 300_000) / 10_000)]! += 1;
    }
    const mean = 10_000 / buckets.length;
    const peak = Math.max(...buckets);
    console.log(`splay: 10,000 hosts, 30 buckets of 10 s: peak ${peak}, mean ${mean.toFixed(1)}, peak/mean ${(peak / mean).toFixed(3)}`);
    expect(peak / mean).toBeLessThanOrEqual(1.3);
  });
});

describe('backoffDelayMs', () => {
  const policy = { baseMs: 30_000, capMs: 300_000 };

  it('doubles with each failure up to the cap', () => {
    const max = () => 0.999999;
    expect(backoffDelayMs(1, policy, max)).toBe(29_999);
    expect(backoffDelayMs(2, policy, max)).toBe(59_999);
    expect(backoffDelayMs(4, policy, max)).toBe(239_999);
    expect(backoffDelayMs(5, policy, max)).toBe(299_999);
    expect(backoffDelayMs(50, policy, max)).toBe(299_999);
  });

  it('applies full jitter after the cap, so hosts at the cap do not retry in lockstep', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelayMs(20, policy)));
    expect(delays.size).toBeGreaterThan(90);
    expect(Math.min(...delays)).toBeLessThan(150_000);
    expect(backoffDelayMs(20, policy, () => 0)).toBe(0);
  });

  it('is zero without failures', () => {
    expect(backoffDelayMs(0, policy)).toBe(0);
  });
});

describe('applyReason: does a run call Puppet? (SPEC §1)', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const base: ApplyDecisionInput = {
    trigger: 'schedule',
    releaseChanged: false,
    sourceFailed: false,
    lastExitCode: 0,
    lastApplyAt: new Date('2026-11-25T11:45:00Z'),
    now,
    driftCheckEveryMs: 30 * 60_000,
  };
  it.each([
    ['nothing new, applied 15 min ago', {}, 'skip'],
    ['run-now always applies', { trigger: 'run-now' as const }, 'requested'],
    ['fleet run-now always applies', { trigger: 'fleet' as const }, 'requested'],
    ['SIGUSR1 always applies', { trigger: 'signal' as const }, 'requested'],
    ['a new release', { releaseChanged: true }, 'release-changed'],
    ['the source failed: apply the last good tree', { sourceFailed: true }, 'source-failed'],
    ['the last run failed', { lastExitCode: 4 }, 'last-run-failed'],
    ['the last run could not run', { lastExitCode: 1 }, 'last-run-failed'],
    ['the last run changed things (2 is success)', { lastExitCode: 2 }, 'skip'],
    ['never applied', { lastApplyAt: null }, 'never-applied'],
    ['last apply 30 min ago', { lastApplyAt: new Date('2026-11-25T11:30:00Z') }, 'drift-check-due'],
    ['last apply finished 29 min 50 s ago (a few seconds after its tick)', { lastApplyAt: new Date('2026-11-25T11:30:10Z') }, 'drift-check-due'],
    ['last apply 28 min ago', { lastApplyAt: new Date('2026-11-25T11:32:00Z') }, 'skip'],
    ['a boot run with nothing new', { trigger: 'boot' as const }, 'skip'],
  ])('%s → %s', (_name, fields, reason) => {
    expect(applyReason({ ...base, ...fields })).toBe(reason);
  });

  it('counts 1 and the 4 bit as failures', () => {
    expect([0, 1, 2, 3, 4, 6, 75].map(runFailed)).toEqual([false, true, false, false, true, true, false]); // 75 = lock busy, not a failure
  });
});
