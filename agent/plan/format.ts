/**
 * `plan show` for a terminal, pure: `--by resource` (default), `role` or `host`. Diffs are coloured
 * (red -, green +, cyan @@) only when `color` is set (stdout is a TTY), plain when piped.
 */
import type { PlanView, ResourceRow } from './aggregate.js';

const SHOWN_HOSTS = 5;
const SHOWN_DIFF_LINES = 40;

export function formatPlanView(view: PlanView, by: 'resource' | 'role' | 'host', color: boolean, now: Date): string {
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const { plan, counts } = view;
  const lines: string[] = [];
  const scope = `${plan.roles.length ? `roles ${plan.roles.join(', ')}` : 'every host'}${plan.sample !== null ? `, a ${plan.sample}% sample` : ''}`;
  const left = Date.parse(plan.expires_at) - now.getTime();
  const expiry = view.expired ? paint('1;33', `EXPIRED at ${plan.expires_at}: hosts no longer answer it`) : `expires ${plan.expires_at} (in ${Math.ceil(left / 60_000)}m)`;
  lines.push(`plan ${plan.plan_id}: release ${plan.candidate.release_id.slice(0, 12)} (serial ${plan.candidate.serial}) on ${scope}; ${expiry}`);
  const answered = counts.unchanged + counts.changes + counts.failed;
  lines.push(`answered ${answered} of ${answered + counts.unanswered} hosts in scope: ${counts.changes} would change, ${counts.failed} would fail, ${counts.unchanged} unchanged`);
  lines.push('');
  if (by === 'resource') lines.push(...byResource(view, paint));
  if (by === 'role') lines.push(...byRole(view));
  if (by === 'host') lines.push(...byHost(view));
  if (by !== 'host') {
    const waiting = view.hosts.filter((host) => host.result === 'unanswered');
    if (waiting.length) lines.push('', `not answered (${waiting.length}): ${listHosts(waiting.map((host) => host.instance_id))}`);
  }
  for (const bad of view.unreadable) lines.push(`unreadable answer ${bad.key}: ${bad.error}`);
  const verdict = view.exit_code === 4 ? paint('1;31', 'FAILURES: do not roll this out as it is') : view.exit_code === 2 ? 'changes as listed above' : 'nothing would change';
  lines.push('', `${verdict} (exit ${view.exit_code})`);
  return `${lines.join('\n')}\n`;
}

function byResource(view: PlanView, paint: (code: string, text: string) => string): string[] {
  const lines = [`would change (${view.resources.length} resource${view.resources.length === 1 ? '' : 's'}):`];
  if (view.resources.length === 0) lines.push('  nothing');
  for (const row of view.resources) lines.push(...describeResource(row, paint));
  lines.push('', `would fail (${view.failures.length} message${view.failures.length === 1 ? '' : 's'}):`);
  if (view.failures.length === 0) lines.push('  nothing');
  for (const failure of view.failures) {
    lines.push(`  ${paint('31', failure.message)}`);
    lines.push(`    ${failure.resource ? `${failure.resource} on ` : ''}${plural(failure.hosts.length, 'host')}${failure.roles.length ? ` (roles ${failure.roles.join(', ')})` : ''}: ${listHosts(failure.hosts)}`);
  }
  return lines;
}

function describeResource(row: ResourceRow, paint: (code: string, text: string) => string): string[] {
  const lines = [`  ${paint('1', row.resource)}  ${plural(row.hosts.length, 'host')}${row.roles.length ? `, roles ${row.roles.join(', ')}` : ''}`];
  for (const event of row.representative.events) lines.push(`    ${event.property}: ${show(event.current)} -> ${show(event.desired)}`);
  const diff = row.representative.diff;
  if (diff) {
    for (const line of diff.lines.slice(0, SHOWN_DIFF_LINES)) {
      const code = line.startsWith('+++') || line.startsWith('---') ? '1' : line.startsWith('+') ? '32' : line.startsWith('-') ? '31' : line.startsWith('@@') ? '36' : '';
      lines.push(`    ${code ? paint(code, line) : line}`);
    }
    if (diff.lines.length > SHOWN_DIFF_LINES || diff.truncated) lines.push(`    ... (diff cut${diff.truncated ? ' at report.plan_diff_max on the host' : ''}; --json has all of it)`);
  }
  if (row.variants > 1) lines.push(`    (${row.variants} different changes: ${row.representative_hosts} of ${row.hosts.length} hosts as shown; --by host for each)`);
  return lines;
}

function byRole(view: PlanView): string[] {
  const lines: string[] = [];
  for (const role of view.roles) {
    lines.push(`role ${role.role}: ${role.answered} answered, ${role.unanswered} not yet, ${role.failed} would fail`);
    if (role.resources.length === 0) lines.push('  nothing would change');
    for (const resource of role.resources) lines.push(`  ${resource.resource}  ${plural(resource.hosts, 'host')}`);
  }
  return lines;
}

function byHost(view: PlanView): string[] {
  const lines: string[] = [];
  for (const host of view.hosts) {
    lines.push(`${host.instance_id}  ${host.result}${host.roles.length ? `  roles ${host.roles.join(',')}` : ''}${host.answered_at ? `  answered ${host.answered_at}` : ''}`);
    for (const change of host.changes) lines.push(`  would change ${change}`);
    for (const failure of host.failures) lines.push(`  would fail: ${failure}`);
  }
  return lines;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function listHosts(ids: readonly string[]): string {
  return ids.length > SHOWN_HOSTS ? `${ids.slice(0, SHOWN_HOSTS).join(', ')} and ${ids.length - SHOWN_HOSTS} more` : ids.join(', ');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
