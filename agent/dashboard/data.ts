import type { FleetRollout } from '../fleet/rollout-summary.js';

/**
 * What the dashboard page reads (SPEC §11), written by the builder as JSON inside small `.js` files
 * (`dashboardData(...)`), because browsers refuse fetch() and XHR from file:// but do run <script src>.
 * The hosts table is an array of arrays, one per host, so 10,000 hosts stay well under a megabyte.
 */
export const DASHBOARD_SCHEMA = 'agent.dashboard/v1';

/** Every state a row can have: `fleet status`'s nine (SPEC §2) and its two extra ones. */
export const STATES = ['compliant', 'changed', 'corrected', 'drifted', 'failed', 'error', 'disabled', 'stale', 'deregistered', 'unreported', 'unreadable'] as const;
export type DashboardState = (typeof STATES)[number];

/** One host in the table: [id, hostname, private_ip, state index, role indexes, release index (-1 none), last run (epoch s, 0 none), out_of_sync, corrective, failed, flapping, shard]. */
export type HostTuple = [string, string, string, number, number[], number, number, number, number, number, number, number];

export interface Breakdown {
  key: string;
  instances: number;
  by_state: Partial<Record<DashboardState, number>>;
}

export interface TopResource {
  resource: string;
  hosts: number;
  /** Up to five instance ids, for the operator to open. */
  sample: string[];
}

export interface Problem {
  instance_id: string;
  state: DashboardState;
  problem: string;
}

export interface Snapshot {
  at: string;
  /** Counts in the order of `states` of the history document. */
  counts: number[];
}

export interface DashboardSummary {
  schema: typeof DASHBOARD_SCHEMA;
  generated_at: string;
  states: readonly DashboardState[];
  instances: number;
  by_state: Record<DashboardState, number>;
  by_release: Breakdown[];
  by_role: Breakdown[];
  rollout: FleetRollout | null;
  flapping: TopResource[];
  failing: TopResource[];
  corrective: TopResource[];
  problems: Problem[];
  history: { states: readonly DashboardState[]; snapshots: Snapshot[] };
  /** Names the host tuples index into. */
  roles: string[];
  releases: string[];
  shards: number;
}

export interface EventDetail {
  property: string;
  previous: string;
  desired: string;
  status: string;
  message: string;
}

export interface ResourceDetail {
  resource: string;
  file: string | null;
  line: number | null;
  corrective: boolean;
  flapping: boolean;
  failed: boolean;
  events: EventDetail[];
}

/** One run as the host view shows it; earlier builds' runs are carried over (the last RUNS_KEPT). */
export interface RunDetail {
  run_id: string;
  trigger: string;
  mode: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  result: string;
  exit_code: number;
  release_id: string | null;
  source: { status: string; error?: string };
  apply: { status: string; error?: string; puppet_version: string | null; rolled_back_from?: string };
  drift: { resources_total: number; out_of_sync: number; corrective: number; intentional: number; failed: number; flapping: number };
  disabled?: { reason: string; by: string; at: string; until: string | null };
  resources: ResourceDetail[];
}

export interface HostDetail {
  instance_id: string;
  hostname: string | null;
  private_ip: string | null;
  public_ip: string | null;
  roles: string[];
  state: DashboardState;
  problem?: string;
  registration: { ami_id: string | null; instance_type: string | null; availability_zone: string | null; agent_version: string | null; registered_at: string | null } | null;
  runs: RunDetail[];
}
