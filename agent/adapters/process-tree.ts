/**
 * The processes a child started, found through /proc (Linux). Needed because killing a process group
 * is not always enough: Puppet runs every `exec` resource in a session of its own (Process.setsid in
 * Puppet::Util::Execution), so a TERM to Puppet's group leaves the exec's command running, reparented
 * to init, once Puppet has died. The tree must be read while Puppet is still alive to find them.
 */
import { readdirSync } from 'node:fs';
import { readProcessStat, type ProcessStat } from './proc.js';

/** One process for good: a pid plus its start time (a reused pid has another start time). */
export interface ProcessId {
  pid: number;
  startTime: string;
}

/** Every living descendant of `pid` (children, grandchildren, ...), whatever group or session they are in. */
export function descendantsOf(pid: number): ProcessId[] {
  const children = new Map<number, ProcessStat[]>();
  for (const stat of allProcesses()) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const found: ProcessId[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()!) ?? []) {
      found.push({ pid: child.pid, startTime: child.startTime });
      pending.push(child.pid);
    }
  }
  return found;
}

/** Signals those of `processes` that are still the same living processes; returns how many it reached. */
export function signalProcesses(processes: readonly ProcessId[], signal: NodeJS.Signals): number {
  let reached = 0;
  for (const process_ of processes.filter(isAlive)) {
    try {
      process.kill(process_.pid, signal);
      reached += 1;
    } catch {
      // gone in between: nothing to stop
    }
  }
  return reached;
}

export function isAlive(target: ProcessId): boolean {
  return readProcessStat(target.pid)?.startTime === target.startTime;
}

function allProcesses(): ProcessStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return []; // no /proc: nothing more can be found than the group kill reaches
  }
  return names.map(readProcessStat).filter((stat): stat is ProcessStat => stat !== null);
}
