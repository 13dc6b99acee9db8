import { randomUUID } from 'node:crypto';
import { buildReport, type ReportInput } from '../../agent/report/build.js';
import { EMPTY_DRIFT, type Report } from '../../agent/report/types.js';

/** A plausible compliant report for tests that need one; `overrides` replace any builder input. */
export function sampleReport(startedAt: string, overrides: Partial<ReportInput> & { instanceId?: string } = {}): Report {
  const { instanceId = 'i-test', ...rest } = overrides;
  return buildReport({
    runId: randomUUID(),
    agentVersion: 'test',
    trigger: 'schedule',
    mode: 'enforce',
    instance: { id: instanceId, hostname: 'h', private_ip: null },
    startedAt: new Date(startedAt),
    finishedAt: new Date(Date.parse(startedAt) + 1000),
    nextDueAt: null,
    source: { type: 'rsync', url_or_bucket: '/x', status: 'unchanged', release_id: 'r', files_changed: 0, bytes_transferred: 0 },
    apply: { status: 'unchanged', release_id: 'r', puppet_version: '7', puppet_exit_code: 0, duration_ms: 1 },
    drift: EMPTY_DRIFT,
    redact: [],
    ...rest,
  });
}
