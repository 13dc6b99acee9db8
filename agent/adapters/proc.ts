import { readFileSync } from 'node:fs';

/**
 * A process's start time in clock ticks since boot (/proc/PID/stat field 22), or null when no such
 * process exists or it is a zombie (dead, waiting to be reaped). A pid plus its start time names one
 * process for good: a reused pid has another.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null;
    return fields[19] ?? null; // field 22 overall = index 19 after pid and comm
  } catch {
    return null;
  }
}

/** True when `pid` is alive and is still the process that started at `startTime`. */
export function isSameProcessAlive(pid: number, startTime: string | null | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const current = processStartTime(pid);
  return current !== null && (startTime === undefined || startTime === null || current === startTime);
}
