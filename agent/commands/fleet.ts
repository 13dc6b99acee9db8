import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedCommand } from '../cli.js';
import type { CommandIo } from './io.js';
import { fleetContext, readRolloutDocument, type FleetContext } from './fleet-context.js';
import { parseDuration } from '../config/duration.js';
import { exec } from '../adapters/exec.js';
import { registryKey } from '../report/keys.js';
import { listKeys, fetchJsonMany, deleteKey } from '../fleet/s3-read.js';
import { fleetRows, filterRows, summarize, type FleetRow } from '../fleet/fleet-view.js';
import { formatFleetTable, formatHosts, fileSdTargets, formatAge } from '../fleet/format.js';
import { fanOut, isHostSuccess, knownHostsLines, type HostOutcome } from '../fleet/fan-out.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';
import type { RolloutHost } from '../rollout/tally.js';
import { fleetRollout, formatRolloutLine } from '../fleet/rollout-summary.js';

/** `agent fleet ...`: operators' view of the fleet, from the registry and latest reports in S3. */
export async function fleetCommand(command: ParsedCommand, io: CommandIo): Promise<number> {
  if (command.positionals[0] === 'query') return (await import('./fleet-query.js')).fleetQueryCommand(command, io);
  const context = fleetContext(command.values, io.env);
  try {
    switch (command.positionals[0]) {
      case 'status':
        return await fleetStatus(context, command.values, io);
      case 'hosts':
        io.stdout.write(formatHosts(await selectedRows(context, command.values), command.values.ip === 'public' ? 'public' : 'private'));
        return 0;
      case 'targets':
        io.stdout.write(`${JSON.stringify(fileSdTargets(await selectedRows(context, command.values), Number(command.values.port ?? 9100)), null, 2)}\n`);
        return 0;
      case 'run-now':
        return await fleetRunNow(context, command.values, io);
      case 'dashboard':
        return await (await import('./fleet-dashboard.js')).fleetDashboardCommand(context, command.values, io);
      default:
        return await fleetPrune(context, command.values, io);
    }
  } finally {
    context.s3.destroy();
    context.source?.s3.destroy();
  }
}


async function loadRows(context: FleetContext, values: ParsedCommand['values']): Promise<FleetRow[]> {
  return (await loadFleet(context, values)).rows;
}

async function loadFleet(context: FleetContext, values: ParsedCommand['values']): Promise<{ rows: FleetRow[]; rolloutHosts: RolloutHost[] }> {
  const { s3, bucket, prefix } = context;
  const [registryKeys, latestKeys] = await Promise.all([listKeys(s3, bucket, `${prefix}registry/`), listKeys(s3, bucket, `${prefix}latest/`)]);
  const [registry, latest] = await Promise.all([fetchJsonMany<Registration>(s3, bucket, registryKeys), fetchJsonMany<Report>(s3, bucket, latestKeys)]);
  const byId = <T>(map: Map<string, T>) => new Map([...map].map(([key, value]) => [key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, ''), value]));
  const staleAfterMs = typeof values.stale === 'string' ? parseDuration(values.stale)! : 2 * context.driftCheckEveryMs + context.splayMs;
  const registered = byId(registry);
  const reports = byId(latest);
  const rolloutHosts = [...registered].flatMap(([id, entry]) => {
    const report = reports.get(id);
    return entry.ok ? [{ instance_id: id, roles: entry.value.roles ?? [], report: report?.ok ? report.value : null }] : [];
  });
  return { rows: fleetRows({ registry: registered, latest: reports, now: new Date(), driftCheckEveryMs: context.driftCheckEveryMs, staleAfterMs }), rolloutHosts };
}


async function selectedRows(context: FleetContext, values: ParsedCommand['values']): Promise<FleetRow[]> {
  const rows = filterRows(await loadRows(context, values), { role: values.role as string | undefined, state: values.result as string | undefined });
  return rows.filter((row) => row.state !== 'deregistered' || values.result === 'deregistered');
}

async function fleetStatus(context: FleetContext, values: ParsedCommand['values'], io: CommandIo): Promise<number> {
  const [fleet, doc] = await Promise.all([loadFleet(context, values), readRolloutDocument(context)]);
  const rows = filterRows(fleet.rows, { role: values.role as string | undefined, state: values.result as string | undefined });
  const summary = summarize(rows);
  const rollout = fleetRollout(doc, fleet.rolloutHosts, new Date(), context.driftCheckEveryMs);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ schema: 'agent.fleet/v1', generated_at: new Date().toISOString(), summary, rollout, instances: rows }, null, 2)}\n`);
  } else {
    io.stdout.write(formatFleetTable(rows, summary, new Date(), Boolean(io.stdout.isTTY)));
    if (rollout) io.stdout.write(formatRolloutLine(rollout));
  }
  return 0;
}

async function fleetRunNow(context: FleetContext, values: ParsedCommand['values'], io: CommandIo): Promise<number> {
  const rows = await selectedRows(context, values);
  if (rows.length === 0) {
    io.stderr.write('agent: no registered instance matches\n');
    return 0;
  }
  const port = Number(values['ssh-port'] ?? 22);
  const dir = mkdtempSync(join(tmpdir(), 'agent-fleet-'));
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, knownHostsLines(rows, port));
  const live = Boolean(io.stderr.isTTY);
  try {
    const outcomes = await fanOut(
      { exec },
      rows,
      {
        user: (values['ssh-user'] as string | undefined) ?? 'root',
        port,
        key: (values['ssh-key'] as string | undefined) ?? null,
        noop: values.noop === true,
        plan: (values.plan as string | undefined) ?? null,
        parallel: Number(values.parallel ?? 10),
        maxFailures: values['max-failures'] ? Number(values['max-failures']) : null,
        timeoutMs: 45 * 60_000,
        knownHostsFile,
      },
      (done, running, total) => {
        const failed = done.filter((outcome) => !isHostSuccess(outcome)).length;
        const line = `agent: fleet run-now: ${done.length}/${total} done, ${running} running, ${failed} failed`;
        io.stderr.write(live ? `\r${line}` : `${line}\n`);
      },
    );
    if (live) io.stderr.write('\n');
    io.stdout.write(formatOutcomes(outcomes));
    return outcomes.every(isHostSuccess) ? 0 : 4;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatOutcomes(outcomes: readonly HostOutcome[]): string {
  const rows = [['INSTANCE', 'ADDRESS', 'EXIT', 'RESULT', 'DETAIL'], ...outcomes.map((o) => [o.instance_id, o.address, o.exit_code === null ? '-' : String(o.exit_code), o.result, o.detail ?? ''])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')}\n`;
}

/** Registry entries of hosts that crashed or were reclaimed without deregistering. */
async function fleetPrune(context: FleetContext, values: ParsedCommand['values'], io: CommandIo): Promise<number> {
  const olderThanMs = parseDuration(String(values['older-than'] ?? '1d'))!;
  const rows = await loadRows(context, values);
  const registry = await fetchJsonMany<Registration>(context.s3, context.bucket, rows.filter((row) => row.state !== 'deregistered').map((row) => registryKey(context.prefix, row.instance_id)));
  const now = Date.now();
  const victims = rows.filter((row) => {
    if (row.state === 'deregistered') return false;
    const entry = registry.get(registryKey(context.prefix, row.instance_id));
    const lastHeard = row.last_run_at ?? (entry?.ok ? entry.value.registered_at : null);
    return lastHeard === null || now - Date.parse(lastHeard) > olderThanMs;
  });
  for (const row of victims) {
    if (!values['dry-run']) await deleteKey(context.s3, context.bucket, registryKey(context.prefix, row.instance_id));
    io.stdout.write(`${values['dry-run'] ? 'would remove' : 'removed'} registry/${row.instance_id}.json (last heard ${formatAge(row.last_run_at, new Date())} ago, ${row.state})\n`);
  }
  io.stdout.write(`${victims.length} registry entr${victims.length === 1 ? 'y' : 'ies'} ${values['dry-run'] ? 'would be ' : ''}removed\n`);
  return 0;
}
