import { describe, it, expect } from '@jest/globals';
import { describeExit, describeResourceChange, formatElapsed } from '../../agent/report/words.js';
import { formatStatus, type StatusView } from '../../agent/commands/status.js';
import type { RunSummary } from '../../agent/run/status-file.js';

/** Human output says what happened in words, not in the report's field names (issue #16, item 8). */
describe('the words of human output', () => {
  it('gives ages as a person says them', () => {
    expect(formatElapsed(3_323_900)).toBe('55 min');
    expect(formatElapsed(42_000)).toBe('42 s');
    expect(formatElapsed(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatElapsed(2 * 86_400_000 + 4 * 3_600_000)).toBe('2 d 4 h');
  });

  it('explains every exit code of run-now', () => {
    expect(describeExit(2, 'enforce')).toBe('exit 2: changes applied');
    expect(describeExit(2, 'noop')).toBe('exit 2: drift found, nothing changed (--noop)');
    expect(describeExit(0, 'enforce')).toBe('exit 0: nothing to change');
    for (const code of [1, 3, 4, 6, 75]) expect(describeExit(code, 'enforce')).not.toMatch(/unknown/);
  });

  it('says a drifted resource was put back, not "content success (drift)"', () => {
    const text = describeResourceChange({ events: [{ property: 'content', status: 'success' }], corrective_change: true, flapping: false });
    expect(text).toBe('content put back (it had drifted from what the last run applied)');
    expect(describeResourceChange({ events: [{ property: 'ensure', status: 'success' }], corrective_change: false, flapping: false })).toBe('ensure changed (new in this release)');
  });
});

describe('agent status', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const run = (id: string, minutesAgo: number, exit = 2): RunSummary => ({
    run_id: id, trigger: 'schedule', mode: 'enforce', started_at: new Date(now.getTime() - minutesAgo * 60_000 - 2000).toISOString(),
    finished_at: new Date(now.getTime() - minutesAgo * 60_000).toISOString(), duration_ms: 2000, result: exit === 2 ? 'changed' : 'compliant',
    exit_code: exit, source_status: 'unchanged', apply: { status: exit === 2 ? 'changed' : 'skipped' }, release_id: 'a'.repeat(64),
    drift: { out_of_sync: 1, corrective: 0, intentional: 1, failed: 0, flapping: 0 },
  });
  const view = (lastRun: RunSummary, lastApply: RunSummary): StatusView => ({
    schema: 'agent.status/v1', last_run: lastRun, last_apply: lastApply, next_run_at: null, daemon: null, lock: null, disabled: null, spool: { count: 0, oldest_at: null },
  });

  it('does not print the last apply twice when the last run was it', () => {
    const text = formatStatus(view(run('r1', 55), run('r1', 55)), now);
    expect(text).toMatch(/^last run: +changed \(exit 2: changes applied\), 55 min ago, schedule;/m);
    expect(text).toMatch(/^last apply: +the last run \(it applied\)$/m);
  });

  it('tells a skipped poll from the apply before it', () => {
    const text = formatStatus(view(run('r2', 3, 0), run('r1', 55)), now);
    expect(text).toMatch(/^last run: +compliant \(exit 0: nothing to change\), 3 min ago, schedule; Puppet not run/m);
    expect(text).toMatch(/^last apply: +changed \(exit 2: changes applied\), 55 min ago/m);
    expect(text).not.toMatch(/\d+\.\ds ago/);
  });
});
