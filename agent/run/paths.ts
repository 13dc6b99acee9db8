import { join } from 'node:path';
import type { Config } from '../config/schema.js';

/** Where everything lives under `state_dir` (SPEC §6). One place, so no module invents a path. */
export interface StatePaths {
  stateDir: string;
  stageDir: string;
  lockFile: string;
  disabledFile: string;
  releasesDir: string;
  spoolDir: string;
  reportsDir: string;
  statusFile: string;
  puppetDir: string;
  /** Desired-value digests and recent corrections, for corrective/intentional/flapping (SPEC §5). */
  driftStateFile: string;
  /** started_at of the newest report written to latest/ (a late spooled report never overwrites it). */
  latestMarkerFile: string;
  daemonFile: string;
  /** Who this host is, as resolved at the last registration (instance_id: auto). */
  identityFile: string;
  /** The registry entry last written to S3, to rewrite it only when it changes. */
  registrationFile: string;
  /** The S3 source's content-addressed object cache (`<sha256>-<mode>`), hard-linked into releases. */
  objectCacheDir: string;
  /** The S3 source's current.json ETag and the release it named, for a 304 poll. */
  sourcePointerFile: string;
  /** The highest rollout.json serial this host followed: an older document is a replay (SPEC §9). */
  rolloutSeenFile: string;
  /** Releases this host rolled back from, not retried while the same document names them. */
  failedReleasesFile: string;
  /** The rsync source's SSH control sockets (ControlMaster), owned by the daemon (source/ssh-control.ts). */
  sshDir: string;
  /** The config the daemon's last run validated, for the next one (config/snapshot.ts). */
  configSnapshotFile: string;
}

export function statePaths(config: Pick<Config, 'state_dir' | 'stage_dir'>): StatePaths {
  const root = config.state_dir;
  return {
    stateDir: root,
    stageDir: config.stage_dir,
    lockFile: join(root, 'run.lock'),
    disabledFile: join(root, 'disabled'),
    releasesDir: join(root, 'releases'),
    spoolDir: join(root, 'spool'),
    reportsDir: join(root, 'reports'),
    statusFile: join(root, 'status.json'),
    puppetDir: join(root, 'puppet'),
    driftStateFile: join(root, 'drift-state.json'),
    latestMarkerFile: join(root, 'latest-uploaded.json'),
    daemonFile: join(root, 'daemon.json'),
    identityFile: join(root, 'identity.json'),
    registrationFile: join(root, 'registration.json'),
    objectCacheDir: join(root, 'objects'),
    sourcePointerFile: join(root, 'source-pointer.json'),
    rolloutSeenFile: join(root, 'rollout-seen.json'),
    failedReleasesFile: join(root, 'failed-releases.json'),
    sshDir: join(root, 'ssh'),
    configSnapshotFile: join(root, 'config-snapshot.json'),
  };
}
