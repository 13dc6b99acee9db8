import type { Report } from './types.js';
import { writeFileAtomic } from '../adapters/files.js';

/** Run counts by result, kept in status.json so the counter survives the per-run processes. */
export type RunCounters = Partial<Record<Report['result'] | 'skipped', number>>;

/**
 * The Prometheus textfile (node-exporter's textfile collector): the last run's figures and counters.
 * Pure: the caller writes it (temp + rename, so the exporter never reads half a file).
 */
export function renderMetrics(input: { report: Report; counters: RunCounters; spoolDepth: number; spoolDropped: number }): string {
  const { report } = input;
  const seconds = (iso: string) => (Date.parse(iso) / 1000).toFixed(3);
  const sourceUp = report.source.status === 'unreachable' ? 0 : 1;
  const lines = [
    gauge('agent_last_run_timestamp_seconds', 'When the last run finished.', seconds(report.finished_at)),
    gauge('agent_last_run_duration_seconds', 'How long the last run took.', (report.duration_ms / 1000).toFixed(3)),
    gauge('agent_last_run_exit_code', 'Exit code of the last run (SPEC §2).', String(report.exit_code)),
    '# HELP agent_last_run_result 1 for the result of the last run.',
    '# TYPE agent_last_run_result gauge',
    `agent_last_run_result{result="${report.result}",apply="${report.apply.status}"} 1`,
    '# HELP agent_resources Resources of the last apply by state.',
    '# TYPE agent_resources gauge',
    ...(['out_of_sync', 'corrective', 'intentional', 'failed', 'flapping'] as const).map(
      (state) => `agent_resources{state="${state}"} ${report.drift[state]}`,
    ),
    '# HELP agent_rollout_exposed 1 when this host is exposed to the open rollout (it runs the candidate), 0 when not or when there is none.',
    '# TYPE agent_rollout_exposed gauge',
    `agent_rollout_exposed{rollout_id="${report.rollout?.rollout_id ?? ''}"} ${report.rollout?.exposed ? 1 : 0}`,
    gauge('agent_last_run_rolled_back', '1 when the last run rolled a failed new release back to the previous one.', report.apply.rolled_back_from ? '1' : '0'),
    gauge('agent_source_up', '1 when the manifest source answered the last poll.', String(sourceUp)),
    gauge('agent_spool_depth', 'Reports waiting for S3.', String(input.spoolDepth)),
    counter('agent_spool_dropped_total', 'Undelivered reports dropped past report.spool_max.', String(input.spoolDropped)),
    '# HELP agent_runs_total Runs by result (skipped = polls that did not apply).',
    '# TYPE agent_runs_total counter',
    ...Object.entries(input.counters).map(([result, count]) => `agent_runs_total{result="${result}"} ${count}`),
  ];
  return `${lines.join('\n')}\n`;
}

function gauge(name: string, help: string, value: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;
}

function counter(name: string, help: string, value: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
}

export async function writeMetrics(file: string, text: string): Promise<void> {
  if (!file) return; // metrics.textfile: "" disables
  await writeFileAtomic(file, text);
}
