/** The schedule's next firings, from node-cron itself (what the daemon schedules with). */
import cron from 'node-cron';

export function cronTicks(expression: string, count: number): number[] {
  const task = cron.createTask(expression, () => undefined);
  try {
    return task.getNextRuns(count).map((date) => date.getTime());
  } finally {
    void task.destroy();
  }
}
