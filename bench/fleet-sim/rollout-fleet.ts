/**
 * The simulated fleet of the rollout simulation (pure): each host's id, roles, fixed poll offset (the
 * agent's own splayOffsetMs), what it runs, the releases it rolled back from, and the ETags it saw.
 * Hosts are kept in poll order within a cycle (by offset), so a cycle is one pass over the array.
 */
import { splayOffsetMs } from '../../agent/schedule/splay.js';
import type { FailedRelease } from '../../agent/release/failed-releases.js';
import type { RolloutMember } from '../../agent/rollout/cohort.js';
import type { HostReport } from '../../agent/rollout/tally.js';
import type { SeenVersions } from './rollout-bucket.js';

export interface SimHost {
  member: RolloutMember;
  offsetMs: number;
  active: string;
  failed: FailedRelease[];
  seen: SeenVersions;
  /** Ever ran the candidate (applied it, whether it then failed or not). */
  triedCandidate: boolean;
}

/** The first `canaries` ids carry role `canaryRole` (the ids are random, so that is no bias). */
export function buildFleet(ids: readonly string[], splayMs: number, active: string, canaryRole: string, canaries: number): SimHost[] {
  return ids
    .map((id, index) => ({
      member: { instance_id: id, roles: index < canaries ? [canaryRole] : [] },
      offsetMs: splayOffsetMs(id, splayMs),
      active,
      failed: [],
      seen: { current: 0, rollout: 0 },
      triedCandidate: false,
    }))
    .sort((a, b) => a.offsetMs - b.offsetMs);
}

/** The latest/ report every host had before the change: a clean apply of the release it runs. */
export function steadyReport(release: string, at: number): HostReport {
  return { result: 'compliant', finished_at: new Date(at).toISOString(), apply: { release_id: release } };
}
