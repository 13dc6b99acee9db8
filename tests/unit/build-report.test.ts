import { describe, it, expect } from '@jest/globals';
import { buildReport, cleanMessage, exitCodeFor, resultFor, type ReportInput } from '../../agent/report/build.js';
import { EMPTY_DRIFT, type Drift } from '../../agent/report/types.js';

const drift = (fields: Partial<Drift>): Drift => ({ ...EMPTY_DRIFT, ...fields });
const source = (status: ReportInput['source']['status'] = 'unchanged'): ReportInput['source'] => ({
  type: 'rsync',
  url_or_bucket: 'agent@10.0.0.5:/',
  status,
  release_id: 'abc',
  files_changed: 0,
  bytes_transferred: 0,
});
const apply = (status: ReportInput['apply']['status'] = 'unchanged', error?: string): ReportInput['apply'] => ({
  status,
  release_id: 'abc',
  puppet_version: '7.23.0',
  puppet_exit_code: 0,
  duration_ms: 1500,
  ...(error ? { error } : {}),
});

function input(fields: Partial<ReportInput>): ReportInput {
  return {
    runId: '00000000-0000-4000-8000-000000000000',
    agentVersion: '0.1.0',
    trigger: 'run-now',
    mode: 'enforce',
    instance: { id: 'i-1', hostname: 'web-1', private_ip: '10.0.0.7' },
    startedAt: new Date('2026-11-25T07:00:00Z'),
    finishedAt: new Date('2026-11-25T07:00:02.5Z'),
    nextDueAt: new Date('2026-11-25T07:35:02.5Z'),
    source: source(),
    apply: apply(),
    drift: EMPTY_DRIFT,
    redact: [],
    ...fields,
  };
}

describe('exit code and result (SPEC §2, §5)', () => {
  it.each([
    ['nothing out of sync', {}, 0, 'compliant'],
    ['intentional changes applied', { apply: apply('changed'), drift: drift({ out_of_sync: 2, intentional: 2 }) }, 2, 'changed'],
    ['drift corrected', { apply: apply('changed'), drift: drift({ out_of_sync: 1, corrective: 1 }) }, 2, 'corrected'],
    ['noop drift although Puppet exited 0', { mode: 'noop' as const, drift: drift({ out_of_sync: 1, corrective: 1 }) }, 2, 'drifted'],
    ['a failed resource', { apply: apply('failed'), drift: drift({ out_of_sync: 1, failed: 1 }) }, 4, 'failed'],
    ['a failed resource beside a change', { apply: apply('failed'), drift: drift({ out_of_sync: 2, failed: 1, intentional: 2 }) }, 6, 'failed'],
    ['a compile error (Puppet exit 1)', { apply: apply('failed', 'Error: Could not parse') }, 4, 'failed'],
    ['a Puppet timeout', { apply: apply('timeout') }, 4, 'failed'],
    ['source unreachable, last good tree compliant', { source: source('unreachable') }, 4, 'failed'],
    ['source rejected, last good tree corrected drift', { source: source('rejected'), apply: apply('changed'), drift: drift({ out_of_sync: 1, corrective: 1 }) }, 6, 'failed'],
    ['a skipped apply', { apply: apply('skipped') }, 0, 'compliant'],
    ['disabled', { disabled: { reason: 'maintenance', by: 'alice', at: '2026-11-25T06:00:00Z', until: null } }, 3, 'disabled'],
    ['the agent could not run', { agentError: 'no good release' }, 1, 'error'],
  ])('%s → exit %i, %s', (_name, fields, exitCode, result) => {
    const report = buildReport(input(fields));
    expect(report.exit_code).toBe(exitCode);
    expect(report.result).toBe(result);
    expect(exitCodeFor(input(fields))).toBe(exitCode);
    expect(resultFor(exitCode, input(fields).mode, input(fields).drift)).toBe(result);
  });
});

describe('buildReport', () => {
  it('fills the required fields of agent.report/v1', () => {
    const report = buildReport(input({}));
    expect(report).toMatchObject({
      schema: 'agent.report/v1',
      run_id: '00000000-0000-4000-8000-000000000000',
      started_at: '2026-11-25T07:00:00.000Z',
      finished_at: '2026-11-25T07:00:02.500Z',
      duration_ms: 2500,
      next_due_at: '2026-11-25T07:35:02.500Z',
      instance: { id: 'i-1', hostname: 'web-1', private_ip: '10.0.0.7' },
    });
    expect(report).not.toHaveProperty('disabled');
    expect(report.source).not.toHaveProperty('error');
  });

  it('puts the agent error in apply.error', () => {
    expect(buildReport(input({ agentError: 'no good release' })).apply.error).toBe('no good release');
  });

  it('redacts and cuts every message', () => {
    const event = { property: 'content', previous_value: 'a', desired_value: 'b', status: 'success' as const, message: 'token=s3cr3t set' };
    const resources = [{ resource: 'File[/a]', type: 'File', title: '/a', manifest_file: null, line: null, corrective_change: false, flapping: false, failed: false, events: [event] }];
    const report = buildReport(
      input({
        redact: [/token=\S+/g],
        source: { ...source('unreachable'), error: `x${'y'.repeat(5000)}` },
        drift: drift({ out_of_sync: 1, intentional: 1, resources }),
      }),
    );
    expect(report.drift.resources[0]!.events[0]!.message).toBe('[redacted] set');
    expect(Buffer.byteLength(report.source.error!)).toBeLessThanOrEqual(1024);
  });
});

describe('cleanMessage', () => {
  it('never splits a multi-byte character', () => {
    const cut = cleanMessage('é'.repeat(2000), []);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut).not.toContain('\uFFFD');
  });
});
