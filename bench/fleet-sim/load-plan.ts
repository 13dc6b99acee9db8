/**
 * The real load run's plan (pure): when each of `polls` simulated hosts is due, compressed into a
 * window of `windowMs` with the agent's splayOffsetMs (or all at 0 without splay), sorted.
 */
import { splayOffsetMs } from '../../agent/schedule/splay.js';

export interface PlannedPoll {
  id: string;
  dueMs: number;
}

export function planPolls(ids: readonly string[], windowMs: number, splay: boolean): PlannedPoll[] {
  return ids.map((id) => ({ id, dueMs: splay ? splayOffsetMs(id, windowMs) : 0 })).sort((a, b) => a.dueMs - b.dueMs);
}
