/**
 * Stage durations from `agent run-now`'s progress on stderr (pure): the finished line of each stage is
 * `agent: <stage> <outcome> (<seconds>s)` (agent/run/progress.ts).
 */
const FINISHED = /^agent: (lock|poll|stage|activate|apply|report)\s+.*\((\d+(?:\.\d+)?)s\)$/;

export type StageTimes = Partial<Record<'lock' | 'poll' | 'stage' | 'activate' | 'apply' | 'report', number>>;

/** Milliseconds per stage; a stage that shows twice (retries) is summed. */
export function stageTimes(stderr: string): StageTimes {
  const times: StageTimes = {};
  for (const line of stderr.split('\n')) {
    const match = FINISHED.exec(line.trim());
    if (!match) continue;
    const stage = match[1] as keyof StageTimes;
    times[stage] = (times[stage] ?? 0) + Number(match[2]) * 1000;
  }
  return times;
}
