import { parseDuration } from '../config/duration.js';
import type { Report } from '../report/types.js';
import type { RolloutDocument } from './document.js';
import { cohortStep, isExposed, type RolloutMember } from './cohort.js';

/**
 * Where each registered host stands in a rollout, from its latest report (SPEC §9), pure. Only the
 * controller's clock is compared with the controller's own `step_started_at`: a host's timestamps are
 * never compared with it, so clock skew between hosts and the controller cannot shorten or stretch a bake.
 */
export type HostReport = Pick<Report, 'result' | 'finished_at'> & {
  apply: Pick<Report['apply'], 'release_id' | 'rolled_back_from'>;
  rollout?: Report['rollout'];
};

export interface RolloutHost extends RolloutMember {
  report: HostReport | null;
}

export type HostStanding = 'succeeded' | 'failed' | 'pending' | 'silent' | 'disabled' | 'waiting';

export interface HostTally {
  instance_id: string;
  /** The step that first exposes this host. */
  cohort: number;
  exposed: boolean;
  /** succeeded/failed/pending on the candidate; silent = exposed, no report in bake + drift_check_every
   * (counted as failed); disabled = runs disabled on the host (neither); waiting = not exposed yet. */
  standing: HostStanding;
  on_candidate: boolean;
  detail: string;
}

export function tallyHosts(rollout: RolloutDocument, hosts: readonly RolloutHost[], now: Date, driftCheckEveryMs: number): HostTally[] {
  const silentAfterMs = (parseDuration(rollout.bake) ?? 0) + driftCheckEveryMs;
  const silent = now.getTime() - Date.parse(rollout.step_started_at) > silentAfterMs;
  const candidate = rollout.candidate.release_id;
  return hosts.map((host) => {
    const exposed = rollout.state !== 'aborted' && isExposed(rollout, host, rollout.step);
    const report = host.report;
    const onCandidate = report?.apply.release_id === candidate;
    const base = { instance_id: host.instance_id, cohort: cohortStep(rollout, host), exposed, on_candidate: onCandidate };
    const failure = report ? failureOf(report, rollout) : undefined;
    if (failure) return { ...base, standing: 'failed', detail: failure };
    if (!exposed) return { ...base, standing: 'waiting', detail: 'not exposed yet' };
    if (report?.result === 'disabled') return { ...base, standing: 'disabled', detail: 'runs disabled on the host' };
    if (onCandidate) return { ...base, standing: 'succeeded', detail: `${report!.result} on the candidate` };
    if (silent) return { ...base, standing: 'silent', detail: `no report on the candidate within bake + drift_check_every (${Math.round(silentAfterMs / 1000)}s)` };
    return { ...base, standing: 'pending', detail: report ? `still on ${report.apply.release_id?.slice(0, 12) ?? 'nothing'}` : 'no report yet' };
  });
}

/** Did this report fail on the candidate? A rollback from it, a hold after one, or a failing run of it. */
function failureOf(report: HostReport, rollout: RolloutDocument): string | undefined {
  const candidate = rollout.candidate.release_id;
  if (report.rollout?.rollout_id !== rollout.rollout_id) return undefined; // an older rollout's failure is not this one's
  if (report.apply.rolled_back_from === candidate) return `rolled back from the candidate (${report.result})`;
  if (report.rollout.candidate_failed) return 'holds previous: the candidate failed here';
  if (report.apply.release_id === candidate && (report.result === 'failed' || report.result === 'error')) return `${report.result} on the candidate`;
  return undefined;
}

export function countsFailed(standing: HostStanding): boolean {
  return standing === 'failed' || standing === 'silent';
}
