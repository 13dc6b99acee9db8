/** Run one command and time it, wall clock (the adapter every timed scenario uses). */
import { execa } from 'execa';

export interface TimedRun {
  ms: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function timed(file: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<TimedRun> {
  const started = performance.now();
  const result = await execa(file, args, { env: options.env, reject: false, timeout: options.timeoutMs ?? 180_000, stdin: 'ignore' });
  return { ms: performance.now() - started, exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Fail loudly when a run exited with a code the scenario did not expect: a figure of a broken run is no figure. */
export function expectExit(run: TimedRun, allowed: readonly number[], what: string): TimedRun {
  if (!allowed.includes(run.exitCode)) {
    throw new Error(`${what}: expected exit ${allowed.join(' or ')}, got ${run.exitCode}; stderr tail: ${run.stderr.slice(-600)}`);
  }
  return run;
}
