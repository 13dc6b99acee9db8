import { spawn, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * This same binary (dist/agent/main.js), for the daemon's one-process-per-run children: one directory
 * up from tsc's dist/agent/adapters/ and from the bundle's dist/agent/chunks/ alike.
 */
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export interface AgentChild {
  pid: number | undefined;
  exited: Promise<number | null>;
  signal(signal: NodeJS.Signals): void;
}

/**
 * Start `agent ARGS` as a child whose output goes straight to the daemon's (the journal). A child per
 * run returns its memory to the OS when it ends, and a crash there can never take the daemon down.
 */
export function spawnAgent(args: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentChild {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : null)));
  });
  return {
    pid: child.pid,
    exited,
    signal: (signal) => {
      child.kill(signal);
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Run `agent ARGS` and collect what it prints (for `config check --json`). */
export function captureAgent(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}
