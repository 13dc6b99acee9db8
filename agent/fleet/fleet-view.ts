import type { Registration } from './registration.js';
import type { Report } from '../report/types.js';
import type { Fetched } from './s3-read.js';

/**
 * The fleet as S3 tells it (SPEC §2 `fleet status`): one row per registered instance, plus the
 * instances that left cleanly (a latest/ report without a registry entry: deregistered).
 * `unreported`: registered, no report yet; `unreadable`: its registry entry or report is not valid JSON.
 */
export type InstanceState = Report['result'] | 'stale' | 'deregistered' | 'unreported' | 'unreadable';

export interface FleetRow {
  instance_id: string;
  state: InstanceState;
  private_ip: string | null;
  public_ip: string | null;
  roles: string[];
  release_id: string | null;
  last_run_at: string | null;
  result: Report['result'] | null;
  drift: { out_of_sync: number; corrective: number; failed: number; flapping: number } | null;
  disabled: { reason: string; by: string; at: string; until: string | null } | null;
  ssh_host_keys: string[];
  problem?: string;
}

export interface FleetInput {
  registry: Map<string, Fetched<Registration>>;
  latest: Map<string, Fetched<Report>>;
  now: Date;
  /** drift_check_every of the operator's config: a host is stale past its next_due_at plus this. */
  driftCheckEveryMs: number;
  /** For reports without next_due_at: older than this is stale (default 2 × drift_check_every + splay). */
  staleAfterMs: number;
}

export function fleetRows(input: FleetInput): FleetRow[] {
  const ids = new Set([...input.registry.keys(), ...input.latest.keys()]);
  return [...ids].sort().map((id) => rowFor(id, input));
}

function rowFor(id: string, input: FleetInput): FleetRow {
  const entry = input.registry.get(id);
  const latest = input.latest.get(id);
  const registration = entry?.ok ? entry.value : null;
  const report = latest?.ok ? latest.value : null;
  const row: FleetRow = {
    instance_id: id,
    state: 'unreported',
    private_ip: registration?.private_ip ?? report?.instance.private_ip ?? null,
    public_ip: registration?.public_ip ?? null,
    roles: registration?.roles ?? [],
    release_id: report ? (report.apply.release_id ?? report.source.release_id) : null,
    last_run_at: report?.finished_at ?? null,
    result: report?.result ?? null,
    drift: report ? { out_of_sync: report.drift.out_of_sync, corrective: report.drift.corrective, failed: report.drift.failed, flapping: report.drift.flapping } : null,
    disabled: report?.disabled ?? null,
    ssh_host_keys: registration?.ssh_host_keys ?? [],
  };
  const problem = [entry, latest].find((fetched) => fetched && !fetched.ok);
  if (problem && !problem.ok) return { ...row, state: 'unreadable', problem: problem.error };
  if (!entry) return { ...row, state: 'deregistered' };
  if (!report) return { ...row, state: 'unreported' };
  return { ...row, state: isStale(report, input) ? 'stale' : report.result };
}

/** SPEC §2: no report since next_due_at + one drift_check_every; without next_due_at, older than --stale. */
export function isStale(report: Pick<Report, 'next_due_at' | 'finished_at'>, input: Pick<FleetInput, 'now' | 'driftCheckEveryMs' | 'staleAfterMs'>): boolean {
  const now = input.now.getTime();
  if (report.next_due_at) return now > Date.parse(report.next_due_at) + input.driftCheckEveryMs;
  return now - Date.parse(report.finished_at) > input.staleAfterMs;
}

export interface RowFilter {
  role?: string;
  state?: string;
}

export function filterRows(rows: readonly FleetRow[], filter: RowFilter): FleetRow[] {
  return rows.filter((row) => (!filter.role || row.roles.includes(filter.role)) && (!filter.state || row.state === filter.state || row.result === filter.state));
}

export interface FleetSummary {
  instances: number;
  by_state: Record<string, number>;
  by_release: Record<string, number>;
}

export function summarize(rows: readonly FleetRow[]): FleetSummary {
  const count = (values: string[]) => values.reduce<Record<string, number>>((acc, value) => ({ ...acc, [value]: (acc[value] ?? 0) + 1 }), {});
  return {
    instances: rows.length,
    by_state: count(rows.map((row) => row.state)),
    by_release: count(rows.filter((row) => row.release_id).map((row) => row.release_id!.slice(0, 12))),
  };
}
