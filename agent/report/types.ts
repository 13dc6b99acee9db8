/** The report document (SPEC §5, `schema: agent.report/v1`): a product, built by pure functions. */
import type { RolloutReport } from '../rollout/host-target.js';

export type Trigger = 'schedule' | 'boot' | 'run-now' | 'fleet' | 'signal';
export type Mode = 'enforce' | 'noop';
export type SourceStatus = 'unchanged' | 'updated' | 'unreachable' | 'rejected' | 'skipped';
export type ApplyStatus = 'unchanged' | 'changed' | 'failed' | 'timeout' | 'skipped';
export type Result = 'compliant' | 'changed' | 'corrected' | 'drifted' | 'failed' | 'error' | 'disabled';
export type EventStatus = 'success' | 'noop' | 'failure';

export interface SourceOutcome {
  type: 'rsync' | 's3';
  url_or_bucket: string;
  status: SourceStatus;
  /** What the source offered; null when it could not be reached. */
  release_id: string | null;
  files_changed: number;
  bytes_transferred: number;
  error?: string;
}

export interface ApplyOutcome {
  status: ApplyStatus;
  /** The release Puppet ran against (the active one); null when nothing was applied. */
  release_id: string | null;
  puppet_version: string | null;
  puppet_exit_code: number | null;
  duration_ms: number;
  error?: string;
  /** SPEC §9: this run's new release failed where the previous one had succeeded; the previous was
   * re-activated and applied (this outcome is that apply), and the failed release is not retried. */
  rolled_back_from?: string;
  /** What the failed release did before the rollback. */
  rollback?: { puppet_exit_code: number | null; status: ApplyStatus; error: string; failed_resources: string[] };
}

export interface DriftEvent {
  property: string;
  previous_value: unknown;
  desired_value: unknown;
  status: EventStatus;
  message: string;
}

export interface DriftResource {
  resource: string;
  type: string;
  title: string;
  manifest_file: string | null;
  line: number | null;
  corrective_change: boolean;
  flapping: boolean;
  failed: boolean;
  events: DriftEvent[];
}

export interface Drift {
  resources_total: number;
  out_of_sync: number;
  corrective: number;
  intentional: number;
  failed: number;
  flapping: number;
  /** Only resources that were out of sync or failed; in-sync ones are counted, not listed. */
  resources: DriftResource[];
}

export interface DisabledState {
  reason: string;
  by: string;
  at: string;
  until: string | null;
}

export interface Report {
  schema: 'agent.report/v1';
  run_id: string;
  agent_version: string;
  trigger: Trigger;
  mode: Mode;
  /** roles: the host's config roles, so reports/ can be queried by role (Athena, `fleet query`). */
  instance: { id: string; hostname: string; private_ip: string | null; roles?: string[] };
  started_at: string;
  finished_at: string;
  duration_ms: number;
  next_due_at: string | null;
  source: SourceOutcome;
  apply: ApplyOutcome;
  drift: Drift;
  result: Result;
  disabled?: DisabledState;
  exit_code: number;
  /** Reports dropped from a full spool before this one (SPEC §3 report.spool_max). */
  spool_dropped?: number;
  /** SPEC §9: the rollout this host followed, while one is open or aborted. */
  rollout?: RolloutReport;
}

export const EMPTY_DRIFT: Drift = Object.freeze({
  resources_total: 0,
  out_of_sync: 0,
  corrective: 0,
  intentional: 0,
  failed: 0,
  flapping: 0,
  resources: [],
}) as Drift;
