import { readFileSync } from 'node:fs';

/** What /proc/PID/stat says about a living process. A pid plus its start time names one process for good. */
export interface ProcessStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** Clock ticks since boot (field 22): a reused pid has another. */
  startTime: string;
}

/** /proc/PID/stat, or null when the process is gone or a zombie (dead, waiting to be reaped). */
export function readProcessStat(pid: number | string): ProcessStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // index 0 = state (field 3), 1 = ppid, 2 = pgrp, 19 = starttime (field 22)
    if (fields[0] === 'Z' || fields[19] === undefined) return null;
    return { pid: Number(pid), ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: fields[19] };
  } catch {
    return null;
  }
}

/** A living process's start time, or null when no such process exists or it is a zombie. */
export function processStartTime(pid: number): string | null {
  return readProcessStat(pid)?.startTime ?? null;
}

/** True when `pid` is alive and is still the process that started at `startTime`. */
export function isSameProcessAlive(pid: number, startTime: string | null | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const current = processStartTime(pid);
  return current !== null && (startTime === undefined || startTime === null || current === startTime);
}
