import type { FleetRow, FleetSummary } from './fleet-view.js';

const COLOURS: Record<string, string> = {
  compliant: '32', changed: '36', corrected: '33', drifted: '33', failed: '31', error: '31',
  disabled: '35', stale: '31;1', deregistered: '2', unreported: '2', unreadable: '31',
};

/** A human age: 42s, 7m, 3h, 2d. */
export function formatAge(fromIso: string | null, now: Date): string {
  if (!fromIso) return '-';
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** The `fleet status` table; colours only when `colour` (a TTY). */
export function formatFleetTable(rows: readonly FleetRow[], summary: FleetSummary, now: Date, colour: boolean): string {
  const header = ['INSTANCE', 'PRIVATE IP', 'ROLES', 'RELEASE', 'LAST RUN', 'STATE', 'OUT', 'CORR', 'FAIL', 'FLAP', 'DISABLED'];
  const cells = rows.map((row) => [
    row.instance_id,
    row.private_ip ?? '-',
    row.roles.join(',') || '-',
    row.release_id ? row.release_id.slice(0, 12) : '-',
    formatAge(row.last_run_at, now),
    row.state,
    String(row.drift?.out_of_sync ?? '-'),
    String(row.drift?.corrective ?? '-'),
    String(row.drift?.failed ?? '-'),
    String(row.drift?.flapping ?? '-'),
    row.disabled ? `${row.disabled.reason} (${row.disabled.by}, ${formatAge(row.disabled.at, now)} ago)` : row.problem ? `! ${row.problem}` : '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const line = (cell: string[], paint = false) =>
    cell
      .map((value, column) => {
        const padded = value.padEnd(widths[column]!);
        return paint && column === 5 && colour ? `\x1b[${COLOURS[value] ?? '0'}m${padded}\x1b[0m` : padded;
      })
      .join('  ')
      .trimEnd();
  const states = Object.entries(summary.by_state).map(([state, count]) => `${count} ${state}`).join(', ');
  const releases = Object.entries(summary.by_release).map(([release, count]) => `${release} ×${count}`).join(', ');
  return [line(header), ...cells.map((cell) => line(cell, true)), '', `${summary.instances} instances: ${states || 'none'}${releases ? `; releases: ${releases}` : ''}`].join('\n') + '\n';
}

/** `fleet hosts`: one address a line, for ssh loops, Capistrano roles, inventories. */
export function formatHosts(rows: readonly FleetRow[], ip: 'private' | 'public'): string {
  const addresses = rows.map((row) => (ip === 'public' ? row.public_ip : row.private_ip)).filter((address): address is string => Boolean(address));
  return addresses.length > 0 ? `${addresses.join('\n')}\n` : '';
}

/** `fleet targets`: Prometheus file_sd, one target group per instance with its labels. */
export function fileSdTargets(rows: readonly FleetRow[], port: number): Array<{ targets: string[]; labels: Record<string, string> }> {
  return rows
    .filter((row) => row.private_ip && row.state !== 'deregistered')
    .map((row) => ({
      targets: [`${row.private_ip}:${port}`],
      labels: { instance_id: row.instance_id, roles: row.roles.join(','), release: row.release_id ?? '' },
    }));
}
