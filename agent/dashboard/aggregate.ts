import { fleetRows, summarize, type FleetRow } from '../fleet/fleet-view.js';
import { fleetRollout } from '../fleet/rollout-summary.js';
import type { Fetched } from '../fleet/s3-read.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';
import type { RolloutDocument } from '../rollout/document.js';
import type { RolloutHost } from '../rollout/tally.js';
import { DASHBOARD_SCHEMA, STATES, type Breakdown, type DashboardState, type DashboardSummary, type HostDetail, type HostTuple, type Problem, type RunDetail } from './data.js';
import { appendSnapshot, type HistoryDocument } from './history.js';
import { hostDetail, shardOf } from './host-detail.js';
import { topResources } from './resources.js';

/**
 * Everything the page shows, from one read of registry/ and latest/ (SPEC §11), pure. The state of
 * each host comes from `fleetRows`, the very rules of `fleet status`, so both always agree.
 */
export interface DashboardInput {
  /** By instance id, already checked (validate.ts): a bad entry is `ok: false` with its problem. */
  registry: Map<string, Fetched<Registration>>;
  latest: Map<string, Fetched<Report>>;
  rollout: RolloutDocument | null;
  now: Date;
  driftCheckEveryMs: number;
  staleAfterMs: number;
  history: HistoryDocument;
  days: number;
  previousRuns: ReadonlyMap<string, readonly RunDetail[]>;
  shards: number;
}

export interface Dashboard {
  summary: DashboardSummary;
  hosts: HostTuple[];
  details: HostDetail[];
  history: HistoryDocument;
}

export function buildDashboard(input: DashboardInput): Dashboard {
  const rows = fleetRows({ registry: input.registry, latest: input.latest, now: input.now, driftCheckEveryMs: input.driftCheckEveryMs, staleAfterMs: input.staleAfterMs });
  const registration = (id: string) => okValue(input.registry.get(id));
  const report = (id: string) => okValue(input.latest.get(id));
  const byState = Object.fromEntries(STATES.map((state) => [state, 0])) as Record<DashboardState, number>;
  Object.assign(byState, summarize(rows).by_state);
  const roles = [...new Set(rows.flatMap((row) => row.roles))].sort();
  const releases = [...new Set(rows.flatMap((row) => (row.release_id ? [row.release_id] : [])))].sort();
  const roleIndex = new Map(roles.map((role, index) => [role, index]));
  const releaseIndex = new Map(releases.map((release, index) => [release, index]));
  const hostnameOf = (row: FleetRow) => registration(row.instance_id)?.hostname ?? report(row.instance_id)?.instance.hostname ?? null;

  const hosts: HostTuple[] = rows.map((row) => [
    row.instance_id,
    hostnameOf(row) ?? '',
    row.private_ip ?? '',
    STATES.indexOf(row.state as DashboardState),
    row.roles.map((role) => roleIndex.get(role)!),
    row.release_id ? releaseIndex.get(row.release_id)! : -1,
    row.last_run_at ? Math.round(Date.parse(row.last_run_at) / 1000) || 0 : 0,
    row.drift?.out_of_sync ?? 0,
    row.drift?.corrective ?? 0,
    row.drift?.failed ?? 0,
    row.drift?.flapping ?? 0,
    shardOf(row.instance_id, input.shards),
  ]);
  const details = rows.map((row) => hostDetail(row, registration(row.instance_id), report(row.instance_id), input.previousRuns.get(row.instance_id) ?? [], hostnameOf(row)));
  const reports = rows.flatMap((row) => (row.state === 'unreadable' ? [] : [report(row.instance_id)].filter((value): value is Report => value !== null)));
  const history = appendSnapshot(input.history, input.now, byState, input.days);
  const rolloutHosts: RolloutHost[] = rows
    .filter((row) => row.state !== 'deregistered' && row.state !== 'unreadable')
    .map((row) => ({ instance_id: row.instance_id, roles: row.roles, report: report(row.instance_id) }));

  const summary: DashboardSummary = {
    schema: DASHBOARD_SCHEMA,
    generated_at: input.now.toISOString(),
    states: STATES,
    instances: rows.length,
    by_state: byState,
    by_release: breakdown(rows, (row) => (row.release_id ? [row.release_id] : ['(none)'])),
    by_role: breakdown(rows, (row) => (row.roles.length > 0 ? row.roles : ['(no role)'])),
    rollout: fleetRollout(input.rollout, rolloutHosts, input.now, input.driftCheckEveryMs),
    ...topResources(reports),
    problems: problems(rows),
    history: { states: history.states, snapshots: history.snapshots },
    roles,
    releases,
    shards: input.shards,
  };
  return { summary, hosts, details, history };
}

function okValue<T>(fetched: Fetched<T> | undefined): T | null {
  return fetched?.ok ? fetched.value : null;
}

/** Hosts per key (a release, a role) and per state, most hosts first. */
export function breakdown(rows: readonly FleetRow[], keysOf: (row: FleetRow) => string[]): Breakdown[] {
  const groups = new Map<string, Breakdown>();
  for (const row of rows) {
    for (const key of keysOf(row)) {
      const group = groups.get(key) ?? { key, instances: 0, by_state: {} };
      group.instances += 1;
      const state = row.state as DashboardState;
      group.by_state[state] = (group.by_state[state] ?? 0) + 1;
      groups.set(key, group);
    }
  }
  return [...groups.values()].sort((a, b) => b.instances - a.instances || a.key.localeCompare(b.key));
}

/** Entries the page lists as such: unreadable objects (with the reason) and registered hosts without a report. */
function problems(rows: readonly FleetRow[]): Problem[] {
  return rows.flatMap((row): Problem[] => {
    if (row.state === 'unreadable') return [{ instance_id: row.instance_id, state: row.state, problem: row.problem ?? 'unreadable' }];
    if (row.state === 'unreported') return [{ instance_id: row.instance_id, state: row.state, problem: 'registered, but no report in latest/ yet' }];
    return [];
  });
}
