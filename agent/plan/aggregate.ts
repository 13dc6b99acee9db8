/**
 * `plan show`'s view (SPEC §10), pure: the hosts' answers to one plan folded per resource (hosts,
 * roles, one representative change and diff), failures grouped by message, and the hosts in scope
 * that have not answered. Exit 0 nothing would change, 2 changes, 4 a failure on any host.
 */
import { isExpired, type PlanDocument } from './document.js';
import { inPlanScope } from './scope.js';
import type { PlanChange, PlanReport, PlanResult } from './report.js';

export interface ResourceRow {
  resource: string;
  hosts: string[];
  roles: string[];
  /** The change most hosts share (ties: the first host's by id). */
  representative: Pick<PlanChange, 'events' | 'diff'>;
  /** Distinct changes among the hosts (a file whose current content differs from host to host). */
  variants: number;
  /** Hosts whose change is exactly the representative one. */
  representative_hosts: number;
}

export interface FailureRow {
  message: string;
  resource: string | null;
  hosts: string[];
  roles: string[];
}

export interface HostRow {
  instance_id: string;
  roles: string[];
  /** unanswered: in scope, registered, no answer yet. */
  result: PlanResult | 'unanswered';
  changes: string[];
  failures: string[];
  answered_at: string | null;
}

export interface RoleRow {
  role: string;
  answered: number;
  unanswered: number;
  failed: number;
  /** Resource → hosts of this role where it would change. */
  resources: Array<{ resource: string; hosts: number }>;
}

export interface PlanView {
  plan: PlanDocument;
  expired: boolean;
  counts: Record<PlanResult | 'unanswered', number>;
  resources: ResourceRow[];
  failures: FailureRow[];
  hosts: HostRow[];
  roles: RoleRow[];
  unreadable: Array<{ key: string; error: string }>;
  exit_code: number;
}

export interface ViewInput {
  plan: PlanDocument;
  reports: readonly PlanReport[];
  registry: ReadonlyArray<{ instance_id: string; roles: string[] }>;
  unreadable?: Array<{ key: string; error: string }>;
  now: Date;
}

export function aggregatePlan(input: ViewInput): PlanView {
  const answered = new Map(input.reports.map((report) => [report.instance.id, report]));
  const hosts: HostRow[] = [...answered.values()].map((report) => ({
    instance_id: report.instance.id,
    roles: report.roles,
    result: report.result,
    changes: report.changes.map((change) => change.resource),
    failures: report.failures.map((failure) => failure.message),
    answered_at: report.finished_at,
  }));
  for (const entry of input.registry) {
    if (answered.has(entry.instance_id) || !inPlanScope(input.plan, entry)) continue;
    hosts.push({ instance_id: entry.instance_id, roles: entry.roles, result: 'unanswered', changes: [], failures: [], answered_at: null });
  }
  hosts.sort((a, b) => a.instance_id.localeCompare(b.instance_id));
  const rolesOf = new Map(hosts.map((host) => [host.instance_id, host.roles]));
  const rolesFor = (ids: readonly string[]) => [...new Set(ids.flatMap((id) => rolesOf.get(id) ?? []))].sort();

  const byResource = new Map<string, Array<{ host: string; change: PlanChange }>>();
  const byFailure = new Map<string, { resource: string | null; hosts: string[] }>();
  for (const report of [...answered.values()].sort((a, b) => a.instance.id.localeCompare(b.instance.id))) {
    for (const change of report.changes) byResource.set(change.resource, [...(byResource.get(change.resource) ?? []), { host: report.instance.id, change }]);
    for (const failure of report.failures) {
      const key = `${failure.resource ?? ''}\0${failure.message}`;
      const row = byFailure.get(key) ?? { resource: failure.resource, hosts: [] };
      row.hosts.push(report.instance.id);
      byFailure.set(key, row);
    }
  }
  const resources: ResourceRow[] = [...byResource].map(([resource, entries]) => {
    const variants = new Map<string, { change: PlanChange; count: number }>();
    for (const { change } of entries) {
      const key = variantKey(change);
      const variant = variants.get(key) ?? { change, count: 0 };
      variant.count += 1;
      variants.set(key, variant);
    }
    const top = [...variants.values()].sort((a, b) => b.count - a.count)[0]!;
    const ids = entries.map((entry) => entry.host);
    return {
      resource,
      hosts: ids,
      roles: rolesFor(ids),
      representative: { events: top.change.events, ...(top.change.diff ? { diff: top.change.diff } : {}) },
      variants: variants.size,
      representative_hosts: top.count,
    };
  });
  resources.sort((a, b) => b.hosts.length - a.hosts.length || a.resource.localeCompare(b.resource));
  const failures = [...byFailure].map(([key, row]) => ({ message: key.slice(key.indexOf('\0') + 1), resource: row.resource, hosts: row.hosts, roles: rolesFor(row.hosts) }));
  failures.sort((a, b) => b.hosts.length - a.hosts.length || a.message.localeCompare(b.message));

  const counts = { unchanged: 0, changes: 0, failed: 0, unanswered: 0 };
  for (const host of hosts) counts[host.result] += 1;
  const roleNames = [...new Set(hosts.flatMap((host) => (host.roles.length ? host.roles : ['(no role)'])))].sort();
  const roles: RoleRow[] = roleNames.map((role) => {
    const members = hosts.filter((host) => (host.roles.length ? host.roles.includes(role) : role === '(no role)'));
    const tally = new Map<string, number>();
    for (const host of members) for (const resource of host.changes) tally.set(resource, (tally.get(resource) ?? 0) + 1);
    return {
      role,
      answered: members.filter((host) => host.result !== 'unanswered').length,
      unanswered: members.filter((host) => host.result === 'unanswered').length,
      failed: members.filter((host) => host.result === 'failed').length,
      resources: [...tally].map(([resource, count]) => ({ resource, hosts: count })).sort((a, b) => b.hosts - a.hosts || a.resource.localeCompare(b.resource)),
    };
  });
  return {
    plan: input.plan,
    expired: isExpired(input.plan, input.now),
    counts,
    resources,
    failures,
    hosts,
    roles,
    unreadable: input.unreadable ?? [],
    exit_code: counts.failed > 0 ? 4 : counts.changes > 0 ? 2 : 0,
  };
}

function variantKey(change: PlanChange): string {
  return JSON.stringify([change.events.map((event) => [event.property, event.current, event.desired]), change.diff?.lines ?? null]);
}
