import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROL_PREFIX } from '../source/ssh-control.js';

/** Long enough for a master on a live connection to answer; a hung one is left to its ControlPersist. */
const EXIT_TIMEOUT_MS = 5_000;

/**
 * Close every SSH master in `dir` (source/ssh-control.ts) and remove its socket: the daemon's
 * clean-up at start (a killed daemon's leftovers) and at stop. `ssh -O exit` talks to the master over
 * the socket alone: no connection to the server, no key, nothing to verify. Best effort: returns the
 * number of sockets removed.
 */
export async function closeSshMasters(dir: string): Promise<number> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(CONTROL_PREFIX));
  await Promise.all(
    names.map(async (name) => {
      const socket = join(dir, name);
      await new Promise<void>((resolve) => {
        execFile('ssh', ['-O', 'exit', '-o', `ControlPath=${socket}`, '-o', 'BatchMode=yes', 'agent-source'], { timeout: EXIT_TIMEOUT_MS }, () => resolve());
      });
      await rm(socket, { force: true });
    }),
  );
  return names.length;
}
