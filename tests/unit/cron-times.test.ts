import { describe, it, expect } from '@jest/globals';
import cron from 'node-cron';
import { cronIntervalMs, nextCronTime, parseCron } from '../../agent/schedule/cron-times.js';
import { pollIntervalMs } from '../../agent/config/semantics.js';

/** The daemon's own cron times must be node-cron's (which validates the config) to the millisecond. */
const EXPRESSIONS = [
  '*/5 * * * *',
  '* * * * *',
  '0 * * * *',
  '7,37 * * * *',
  '*/2 * * * * *',
  '15 */3 * * * *',
  '0 4 * * *',
  '30 2 * * mon-fri',
  '0 0 1 1 *',
  '0 0 29 2 *',
  '0 12 * jan,jul sun',
  '0 9 1-7 * 1',
  '5-20/5 8-17 * * *',
  '0 0 * * 7',
  '0 0 * * sunday',
  '0 22 * * 0,6',
  '0 0 ? * wed',
];

const STARTS = ['2026-01-01T00:00:00.000', '2026-03-08T01:59:30.500', '2026-03-29T00:30:00', '2026-10-25T02:30:00', '2026-12-31T23:59:59.999', '2027-02-27T12:00:00'].map((text) => new Date(text));

describe('cron times without node-cron', () => {
  it.each(EXPRESSIONS)('%s: the next firings are node-cron\'s', (expression) => {
    const fields = parseCron(expression);
    expect(fields).not.toBeNull();
    for (const start of STARTS) {
      let ours: Date | null = start;
      let theirs = start;
      for (let i = 0; i < 5; i++) {
        ours = nextCronTime(fields!, ours!);
        theirs = nextByNodeCron(expression, theirs);
        expect(ours?.toISOString()).toBe(theirs.toISOString());
      }
    }
    expect(cronIntervalMs(fields!, new Date())).toBe(intervalByNodeCron(expression));
    expect(pollIntervalMs(expression)).toBe(intervalByNodeCron(expression));
  });

  it('pollIntervalMs answers for what only node-cron parses, too', () => {
    expect(pollIntervalMs('@hourly')).toBe(intervalByNodeCron('@hourly'));
  });

  it('leaves what it does not parse to node-cron', () => {
    for (const expression of ['@daily', '0 0 L * *', '0 0 * * 5L', '0 0 * * 1#2', '0 0 15W * *', '61 * * * *', '* * *', '10/15 * * * *']) expect(parseCron(expression)).toBeNull();
  });
});

/** node-cron's shortest gap over its next 50 firings (what pollIntervalMs answered before it had its own). */
function intervalByNodeCron(expression: string): number {
  const task = cron.createTask(expression, () => undefined);
  try {
    const runs = task.getNextRuns(50).map((date) => date.getTime());
    return Math.min(...runs.slice(1).map((time, index) => time - runs[index]!));
  } finally {
    void task.destroy();
  }
}

/** node-cron's next firing strictly after `after` (its tasks keep their matcher as `timeMatcher`). */
function nextByNodeCron(expression: string, after: Date): Date {
  const task = cron.createTask(expression, () => undefined) as unknown as { timeMatcher: { getNextMatch(date: Date): Date }; destroy(): void };
  try {
    return task.timeMatcher.getNextMatch(after);
  } finally {
    void task.destroy();
  }
}
