import type { Registration } from '../fleet/registration.js';
import type { FleetRow } from '../fleet/fleet-view.js';
import type { Report } from '../report/types.js';
import type { DashboardState, HostDetail, RunDetail } from './data.js';

/**
 * The host view's data, pure: the registry entry, the latest run with every resource event, and the
 * runs earlier builds saw (carried over in the host shards, newest first), so "hide runs without
 * events" has runs to hide. Values are cut so one host with a huge diff cannot bloat its shard.
 */
export const RUNS_KEPT = 10;
const VALUE_MAX = 300;
const RESOURCES_MAX = 50;
const EVENTS_MAX = 20;

export function hostDetail(row: FleetRow, registration: Registration | null, report: Report | null, previousRuns: readonly RunDetail[], hostname: string | null): HostDetail {
  const latest = report ? runDetail(report) : null;
  const earlier = previousRuns.filter((run) => run.run_id !== latest?.run_id);
  const runs = (latest ? [latest, ...earlier] : earlier).sort((a, b) => b.finished_at.localeCompare(a.finished_at)).slice(0, RUNS_KEPT);
  return {
    instance_id: row.instance_id,
    hostname,
    private_ip: row.private_ip,
    public_ip: row.public_ip,
    roles: row.roles,
    state: row.state as DashboardState,
    ...(row.problem ? { problem: row.problem } : {}),
    registration: registration
      ? {
          ami_id: registration.ami_id ?? null,
          instance_type: registration.instance_type ?? null,
          availability_zone: registration.availability_zone ?? null,
          agent_version: registration.agent_version ?? null,
          registered_at: registration.registered_at ?? null,
        }
      : null,
    runs,
  };
}

export function runDetail(report: Report): RunDetail {
  const { drift } = report;
  return {
    run_id: String(report.run_id),
    trigger: String(report.trigger),
    mode: String(report.mode),
    started_at: String(report.started_at),
    finished_at: String(report.finished_at),
    duration_ms: Number(report.duration_ms) || 0,
    result: report.result,
    exit_code: Number(report.exit_code),
    release_id: report.apply.release_id ?? report.source.release_id ?? null,
    source: { status: String(report.source.status), ...(report.source.error ? { error: cut(report.source.error) } : {}) },
    apply: {
      status: String(report.apply.status),
      puppet_version: report.apply.puppet_version ?? null,
      ...(report.apply.error ? { error: cut(report.apply.error, 2000) } : {}),
      ...(report.apply.rolled_back_from ? { rolled_back_from: report.apply.rolled_back_from } : {}),
    },
    drift: { resources_total: drift.resources_total, out_of_sync: drift.out_of_sync, corrective: drift.corrective, intentional: drift.intentional, failed: drift.failed, flapping: drift.flapping },
    ...(report.disabled ? { disabled: report.disabled } : {}),
    resources: drift.resources.slice(0, RESOURCES_MAX).map((resource) => ({
      resource: String(resource.resource),
      file: resource.manifest_file ?? null,
      line: resource.line ?? null,
      corrective: Boolean(resource.corrective_change),
      flapping: Boolean(resource.flapping),
      failed: Boolean(resource.failed),
      events: (resource.events ?? []).slice(0, EVENTS_MAX).map((event) => ({
        property: String(event.property),
        previous: cut(show(event.previous_value)),
        desired: cut(show(event.desired_value)),
        status: String(event.status),
        message: cut(String(event.message ?? '')),
      })),
    })),
  };
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function cut(text: string, max = VALUE_MAX): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Which shard file holds a host (FNV-1a of its id): stable, so earlier runs are found again at the next build. */
export function shardOf(instanceId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < instanceId.length; index++) {
    hash ^= instanceId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
