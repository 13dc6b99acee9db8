/** The machine a run was measured on (an adapter: reads /proc and asks the tools their versions). */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  node: string;
  puppet: string;
  rsync: string;
  ssh: string;
  date: string;
}

export function describeMachine(now = new Date()): Machine {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 1024 ** 3,
    os: osRelease(),
    node: process.version,
    puppet: firstLine('puppet', ['--version']),
    rsync: /version\s+(\S+)/.exec(firstLine('rsync', ['--version']))?.[1] ?? 'unknown',
    // ssh -V prints on stderr
    ssh: firstLine('sh', ['-c', 'ssh -V 2>&1']),
    date: now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function osRelease(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function firstLine(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return 'not installed';
  }
}
