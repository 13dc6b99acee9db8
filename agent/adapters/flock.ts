import { openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';

/**
 * flock(2) from Node, which has no binding for it: util-linux `flock -n 3` locks the open file
 * description we pass it as fd 3, then exits. The lock belongs to that description, which this
 * process keeps open, so it holds until we close it — or the kernel does, when we die (kill -9
 * included). Node opens files O_CLOEXEC, so Puppet and other children never inherit it.
 */
export interface FileLock {
  fd: number;
  release(): void;
}

/** Try once; null when another open file description holds the lock. */
export async function tryLockFile(path: string): Promise<FileLock | null> {
  const fd = openSync(path, 'a+', 0o644);
  let attempt: { exitCode: number | null; stderr: string };
  try {
    attempt = await runFlock(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (attempt.exitCode === 0) {
    return { fd, release: () => closeSync(fd) };
  }
  closeSync(fd);
  if (attempt.exitCode === 1) return null; // held elsewhere (flock(1): 1 = would block)
  throw new Error(`flock ${path} failed (exit ${String(attempt.exitCode)}): ${attempt.stderr.trim()}`);
}

// child_process, not execa: execa's stdio types do not allow handing a child an extra fd
function runFlock(fd: number): Promise<{ exitCode: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stderr }));
  });
}
