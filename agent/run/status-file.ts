import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import type { Report } from '../report/types.js';
import type { RunCounters } from '../report/metrics.js';

/** What `status.json` keeps between runs; `agent status` adds the live parts (SPEC §6). */
export interface RunSummary {
  run_id: string;
  trigger: Report['trigger'];
  mode: Report['mode'];
  started_at: string;
  finished_at: string;
  duration_ms: number;
  result: Report['result'];
  exit_code: number;
  source_status: Report['source']['status'];
  source_error?: string;
  apply: { status: Report['apply']['status'] };
  release_id: string | null;
  drift: { out_of_sync: number; corrective: number; intentional: number; failed: number; flapping: number };
}

export interface StatusFile {
  schema: 'agent.status/v1';
  last_run: RunSummary | null;
  last_apply: RunSummary | null;
  next_run_at: string | null;
  /** When a report last went to S3 (applies and disabled reports): the drift_check_every cadence. */
  last_report_at?: string | null;
  runs_total?: RunCounters;
  spool_dropped_total?: number;
}

export function summarizeRun(report: Report): RunSummary {
  const { drift } = report;
  return {
    run_id: report.run_id,
    trigger: report.trigger,
    mode: report.mode,
    started_at: report.started_at,
    finished_at: report.finished_at,
    duration_ms: report.duration_ms,
    result: report.result,
    exit_code: report.exit_code,
    source_status: report.source.status,
    ...(report.source.error ? { source_error: report.source.error } : {}),
    apply: { status: report.apply.status },
    release_id: report.apply.release_id ?? report.source.release_id,
    drift: {
      out_of_sync: drift.out_of_sync,
      corrective: drift.corrective,
      intentional: drift.intentional,
      failed: drift.failed,
      flapping: drift.flapping,
    },
  };
}

/** The status after `report`: a run that skipped Puppet leaves last_apply as it was. */
export function nextStatus(
  previous: StatusFile | undefined,
  report: Report,
  outcome: { published: boolean; spoolDropped: number },
): StatusFile {
  const summary = summarizeRun(report);
  const applied = report.apply.status !== 'skipped';
  const counted = applied || report.result !== 'compliant' ? report.result : 'skipped';
  const counters: RunCounters = { ...(previous?.runs_total ?? {}) };
  counters[counted] = (counters[counted] ?? 0) + 1;
  return {
    schema: 'agent.status/v1',
    last_run: summary,
    last_apply: applied ? summary : (previous?.last_apply ?? null),
    next_run_at: previous?.next_run_at ?? null,
    last_report_at: outcome.published ? report.finished_at : (previous?.last_report_at ?? null),
    runs_total: counters,
    spool_dropped_total: (previous?.spool_dropped_total ?? 0) + outcome.spoolDropped,
  };
}

export async function readStatusFile(path: string): Promise<StatusFile | undefined> {
  return readJsonFile<StatusFile>(path);
}

export async function writeStatusFile(path: string, status: StatusFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(status, null, 2)}\n`);
}
