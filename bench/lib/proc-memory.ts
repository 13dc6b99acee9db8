/** RSS and CPU time of a process and its descendants, from /proc (Linux only). */
import { readdirSync, readFileSync } from 'node:fs';
import { readProcessStat } from '../../agent/adapters/proc.js';

/** VmRSS in kB, 0 when the process is gone. */
export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** `pid` and every living descendant (a daemon that forks at idle pays for its children too). */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcessStat(name);
    if (stat) parentOf.set(stat.pid, stat.ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** RSS of the whole tree in MB, and how many processes it had. */
export function treeRssMb(pid: number): { mb: number; processes: number } {
  const tree = processTree(pid);
  return { mb: tree.reduce((sum, each) => sum + rssKb(each), 0) / 1024, processes: tree.length };
}

/** utime + stime in clock ticks (fields 14 and 15): unchanged over a window means the process was idle. */
export function cpuTicks(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
