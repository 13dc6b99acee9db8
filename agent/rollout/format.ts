import type { RolloutDocument } from './document.js';
import { countsFailed, type HostTally } from './tally.js';
import { describeStep } from './transitions.js';

/** `agent rollout status`: one row per step, pure. Bars only on a TTY. */
export interface StepRow {
  step: number;
  exposes: string;
  hosts: number;
  on_release: number;
  succeeded: number;
  failed: number;
  pending: number;
}

export function stepRows(doc: RolloutDocument, hosts: readonly HostTally[]): StepRow[] {
  return doc.steps.map((_, step) => {
    const cohort = hosts.filter((host) => host.cohort === step);
    return {
      step,
      exposes: describeStep(doc, step),
      hosts: cohort.length,
      on_release: cohort.filter((host) => host.on_candidate).length,
      succeeded: cohort.filter((host) => host.standing === 'succeeded').length,
      failed: cohort.filter((host) => countsFailed(host.standing)).length,
      pending: cohort.filter((host) => host.standing === 'pending' || host.standing === 'waiting').length,
    };
  });
}

const BAR = 20;
function bar(done: number, total: number): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * BAR);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
}

export function formatStatus(doc: RolloutDocument, hosts: readonly HostTally[], tty: boolean): string {
  const rows = stepRows(doc, hosts);
  const header = ['', 'STEP', 'EXPOSES', 'HOSTS', 'ON RELEASE', 'SUCCEEDED', 'FAILED', 'PENDING', ...(tty ? ['PROGRESS'] : [])];
  const cells = rows.map((row) => [
    row.step === doc.step ? '>' : '',
    String(row.step + 1),
    row.exposes,
    String(row.hosts),
    String(row.on_release),
    String(row.succeeded),
    String(row.failed),
    String(row.pending),
    ...(tty ? [bar(row.on_release, row.hosts)] : []),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const line = (cell: string[]) => cell.map((value, column) => value.padEnd(widths[column]!)).join('  ').trimEnd();
  const failing = hosts.filter((host) => countsFailed(host.standing));
  return [
    `rollout ${doc.rollout_id}: ${doc.state}, step ${doc.step + 1}/${doc.steps.length} (${describeStep(doc, doc.step)}), serial ${doc.serial}`,
    `candidate ${doc.candidate.release_id.slice(0, 12)} (serial ${doc.candidate.serial}), previous ${doc.previous.release_id.slice(0, 12)} (serial ${doc.previous.serial})`,
    `started ${doc.started_at} by ${doc.created_by}; step started ${doc.step_started_at}; bake ${doc.bake}, max_failed ${doc.max_failed}, on_failure ${doc.on_failure}`,
    `reason: ${doc.reason}`,
    '',
    line(header),
    ...cells.map(line),
    ...(failing.length > 0 ? ['', 'failing hosts:', ...failing.map((host) => `  ${host.instance_id}: ${host.detail}`)] : []),
  ].join('\n') + '\n';
}
