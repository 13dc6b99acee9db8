import { setTimeout as sleep } from 'node:timers/promises';
import { descendantsOf, isAlive, signalProcesses, type ProcessId } from './process-tree.js';

/**
 * The one way the agent starts a process: argv (never a shell string), no rejection on a non-zero
 * exit (Puppet's 2 means "changed"), a deadline, and an abort signal. The child leads its own process
 * group, so a deadline or abort ends it together with everything it started (TERM, then KILL).
 *
 * The one deadline mechanism too (Puppet's puppet.timeout, rsync's source.timeout, hooks.timeout):
 * a process group is not everything a child started. Puppet starts every `exec` resource in a session
 * of its own (Process.setsid), outside its group, and a killed Puppet leaves such a command running,
 * reparented to init (seen on 7.23: `sleep` outlived a TERMed Puppet). So at the deadline or abort,
 * while the child is still alive to be their ancestor, its descendants are looked up and get the same
 * TERM; exec returns only once they are gone, or KILLs them when the grace is over.
 */
export interface ExecRequest {
  file: string;
  args: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  extendEnv?: boolean;
  timeoutMs?: number;
  /** Time between TERM and KILL when the deadline passes or the signal aborts. */
  killGraceMs?: number;
  signal?: AbortSignal;
  input?: string;
  /** Called once the child is running, with its pid (= its process group id). */
  onSpawn?: (pid: number) => void;
  /** Called with each line the child writes to stdout, as it arrives. */
  onStdoutLine?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
  durationMs: number;
}

export type Exec = (request: ExecRequest) => Promise<ExecResult>;

const DEFAULT_KILL_GRACE_MS = 10_000;
const LEFTOVER_POLL_MS = 100;

export const exec: Exec = async (request) => {
  // loaded at the first command, not at start-up: a tick that runs none (an S3 poll) skips it (bench 1)
  const { execa } = await import('execa');
  const started = performance.now();
  let timedOut = false;
  let aborted = false;
  const child = execa(request.file, request.args, {
    cwd: request.cwd,
    env: request.env,
    extendEnv: request.extendEnv ?? true,
    input: request.input,
    stdin: request.input === undefined ? 'ignore' : undefined,
    reject: false,
    detached: true, // own process group: the deadline kills Puppet's children too
    cleanup: true,
    stripFinalNewline: false,
    lines: false,
  });
  if (child.pid !== undefined) request.onSpawn?.(child.pid);
  let leftovers: ProcessId[] = [];
  let stoppedAt = 0;
  const killGroup = (why: 'timeout' | 'abort') => {
    if (timedOut || aborted) return;
    if (why === 'timeout') timedOut = true;
    else aborted = true;
    stoppedAt = Date.now();
    leftovers = child.pid === undefined ? [] : descendantsOf(child.pid);
    signalProcesses(leftovers, 'SIGTERM');
    signalGroup(child.pid, 'SIGTERM');
    const hard = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), request.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    hard.unref();
    void child.finally(() => {
      clearTimeout(hard);
      signalGroup(child.pid, 'SIGKILL'); // stragglers that ignored TERM after the leader left
    });
  };
  const timer = request.timeoutMs ? setTimeout(() => killGroup('timeout'), request.timeoutMs) : undefined;
  const onAbort = () => killGroup('abort');
  if (request.signal?.aborted) onAbort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  if (request.onStdoutLine) forwardLines(child.stdout, request.onStdoutLine);

  const result = await child;
  clearTimeout(timer);
  request.signal?.removeEventListener('abort', onAbort);
  const graceMs = request.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  while (leftovers.some(isAlive) && Date.now() - stoppedAt < graceMs) await sleep(LEFTOVER_POLL_MS);
  signalProcesses(leftovers, 'SIGKILL');
  const spawnFailed = result.exitCode === undefined && result.signal === undefined && result.failed;
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut,
    aborted,
    spawnError: spawnFailed ? result.shortMessage : undefined,
    durationMs: Math.round(performance.now() - started),
  };
};

/** Send `signal` to the process group led by `pid`; a group that is already gone is fine. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => pending && onLine(pending));
}
