/**
 * Idle RSS of a process tree: a few samples a second apart once it settled, and whether it was really
 * idle (no CPU time used over the sampling window).
 */
import { summarize, type Summary } from '../stats.js';
import { cpuTicks, processTree, treeRssMb } from './proc-memory.js';
import { sleep } from './wait.js';

export interface IdleSample {
  rssMb: Summary;
  processes: number;
  /** CPU ticks (1/100 s) the tree used while sampled. */
  cpuTicks: number;
}

export async function sampleIdle(pid: number, samples = 3, everyMs = 1000): Promise<IdleSample> {
  const ticks = () => processTree(pid).reduce((sum, each) => sum + cpuTicks(each), 0);
  const before = ticks();
  const rss: number[] = [];
  let processes = 0;
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(everyMs);
    const tree = treeRssMb(pid);
    rss.push(tree.mb);
    processes = Math.max(processes, tree.processes);
  }
  return { rssMb: summarize(rss), processes, cpuTicks: ticks() - before };
}
