/**
 * When each simulated host asks the source, under three policies (pure, times in ms since epoch):
 * - agent: every cron tick + the host's fixed offset, the agent's own splayOffsetMs;
 * - no splay: every host at the tick itself (:00, :05, ...);
 * - Puppet style: after a fleet-wide restart at `restartAt`, one random delay in [0, splaylimit)
 *   per host, then a run every runinterval from the previous run's start (Puppet's SplayJob + Job:
 *   the splay is drawn once per process start, not per run).
 */
import { splayOffsetMs } from '../../agent/schedule/splay.js';

export function agentArrivals(ids: readonly string[], ticks: readonly number[], splayMs: number): number[] {
  const out: number[] = [];
  for (const id of ids) {
    const offset = splayOffsetMs(id, splayMs);
    for (const tick of ticks) out.push(tick + offset);
  }
  return out;
}

export function noSplayArrivals(hosts: number, ticks: readonly number[]): number[] {
  const out: number[] = [];
  for (let host = 0; host < hosts; host++) out.push(...ticks);
  return out;
}

export function puppetArrivals(hosts: number, restartAt: number, runIntervalMs: number, splayLimitMs: number, until: number, random: () => number): number[] {
  const out: number[] = [];
  for (let host = 0; host < hosts; host++) {
    for (let at = restartAt + Math.floor(random() * splayLimitMs); at < until; at += runIntervalMs) out.push(at);
  }
  return out;
}
