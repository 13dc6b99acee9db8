import { describe, it, expect } from '@jest/globals';
import { renderResults, renderScenario, SMOKE, type ScenarioOutcome } from '../../bench/results-md.js';
import { runOrder } from '../../bench/scenario.js';

/** `bench --quick` is CI's smoke test: it must not print verdicts its small sizes cannot support. */
const figure = (median: number) => ({ median, min: median, max: median, n: 1 });
const outcome: ScenarioOutcome = {
  title: '1. no-change poll',
  seconds: 1,
  result: {
    baseline: 'the seed',
    subject: 'the agent',
    notes: [],
    rows: [{ metric: 'wall', unit: 's', baseline: figure(1), subject: figure(0.5), ratio: figure(0.5), target: { on: 'ratio', max: 0.1, source: 'issue #8' } }],
  },
};
const machine = { cores: 2, cpuModel: 'x', memoryGb: 4, os: 'Debian', node: 'v20', puppet: '7', rsync: '3', ssh: 'OpenSSH', date: '2026-12-06' };

describe('bench results', () => {
  it('a --quick run says "smoke run: figures not comparable" and never met or missed', () => {
    const text = [renderResults({ quick: true, repetitions: 1, machine, outcomes: [outcome], totalSeconds: 1 }), ...renderScenario(outcome, true)].join('\n');
    expect(text).toContain(SMOKE);
    expect(SMOKE).toBe('smoke run: figures not comparable');
    expect(text).not.toMatch(/missed|\bmet\b/);
  });

  it('a full run keeps its verdicts', () => {
    const text = renderResults({ quick: false, repetitions: 5, machine, outcomes: [outcome], totalSeconds: 1 });
    expect(text).toContain('**missed**');
    expect(text).not.toContain(SMOKE);
  });

  it('runs the long memory scenario after every timed one, keeping the others in their listed order', () => {
    const listed = [{ name: 'poll' }, { name: 'idle', runsLast: true }, { name: 'tree' }, { name: 'fleet' }];
    expect(runOrder(listed).map((scenario) => scenario.name)).toEqual(['poll', 'tree', 'fleet', 'idle']);
  });
});
