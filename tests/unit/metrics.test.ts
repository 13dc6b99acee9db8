import { describe, it, expect } from '@jest/globals';
import { renderMetrics } from '../../agent/report/metrics.js';
import { sampleReport } from '../helpers/reports.js';
import { EMPTY_DRIFT } from '../../agent/report/types.js';

const report = sampleReport('2026-11-25T12:00:00Z', {
  finishedAt: new Date('2026-11-25T12:00:03Z'),
  source: { type: 'rsync', url_or_bucket: 'x', status: 'unreachable', release_id: null, files_changed: 0, bytes_transferred: 0, error: 'down' },
  apply: { status: 'changed', release_id: 'a', puppet_version: '7', puppet_exit_code: 2, duration_ms: 1500 },
  drift: { ...EMPTY_DRIFT, resources_total: 5, out_of_sync: 2, corrective: 1, intentional: 1 },
});

describe('renderMetrics', () => {
  const text = renderMetrics({ report, counters: { failed: 2, compliant: 10, skipped: 40 }, spoolDepth: 3, spoolDropped: 1 });

  it('exposes the last run, drift, source, spool and counters with the agent_ prefix', () => {
    expect(text).toContain('agent_last_run_timestamp_seconds 1795608003.000');
    expect(text).toContain('agent_last_run_duration_seconds 3.000');
    expect(text).toContain('agent_last_run_exit_code 6');
    expect(text).toContain('agent_last_run_result{result="failed",apply="changed"} 1');
    expect(text).toContain('agent_resources{state="corrective"} 1');
    expect(text).toContain('agent_source_up 0');
    expect(text).toContain('agent_spool_depth 3');
    expect(text).toContain('agent_spool_dropped_total 1');
    expect(text).toContain('agent_runs_total{result="skipped"} 40');
  });

  it('is valid exposition format: every sample line is `name{labels} value`', () => {
    for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^agent_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?$/);
    }
  });
});
