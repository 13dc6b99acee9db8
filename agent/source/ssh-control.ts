import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/**
 * One SSH connection reused across polls (OpenSSH ControlMaster): a no-change poll then costs one
 * rsync session on an open connection instead of a key exchange and an authentication each time.
 * The master is an ordinary `ssh` started by rsync with the same pinned options (StrictHostKeyChecking=yes,
 * the configured known_hosts only); sessions multiplexed over it inherit that verified connection.
 *
 * - The socket lives in state_dir/ssh/ (0700), named by a digest of everything the pinning depends on
 *   (user@host, port, key path, known_hosts path and content): a changed key or re-pinned host gets a
 *   new master, which verifies again; an old one is never reused for a different pinning.
 * - The daemon's runs leave their master for the next tick (ControlPersist: one poll interval and a
 *   minute, so it lives from tick to tick and dies on its own when the daemon stops ticking); the
 *   daemon closes them at start and stop (adapters/ssh-master.ts). Any other run joins a master if one
 *   is up, and otherwise starts one that outlives it by RUN_PERSIST_S only: its poll and its stage then
 *   share one connection instead of paying two handshakes (bench 2).
 */
export interface SshControl {
  /** The socket (ssh's ControlPath). */
  path: string;
  /** Seconds a master started by this run stays after its last session. */
  persistSeconds: number;
}

/** Extra seconds past one poll interval, so the master is still there at the next tick (splay is fixed). */
export const PERSIST_MARGIN_S = 60;

/** How long a master started by a run the daemon did not start stays after it: enough between poll and stage. */
export const RUN_PERSIST_S = 5;

export const CONTROL_PREFIX = 'cm-';

export function sshControlFor(
  source: Pick<Config['source'], 'url' | 'port' | 'ssh_key' | 'known_hosts'>,
  knownHostsText: string,
  controlDir: string,
  persistSeconds: number,
): SshControl {
  const host = (source.url ?? '').replace(/:.*$/, '');
  const digest = createHash('sha256')
    .update(JSON.stringify([host, source.port, source.ssh_key, source.known_hosts, knownHostsText]))
    .digest('hex')
    .slice(0, 20);
  return { path: join(controlDir, `${CONTROL_PREFIX}${digest}`), persistSeconds };
}

/** The ssh `-o` options for a control socket (appended to the pinned ones in sshCommand). */
export function controlOptions(control: SshControl): string[] {
  return ['ControlMaster=auto', `ControlPath=${control.path}`, `ControlPersist=${Math.max(1, Math.ceil(control.persistSeconds))}`];
}
