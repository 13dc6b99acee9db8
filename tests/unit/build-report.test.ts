import { describe, it, expect } from '@jest/globals';
import { buildReport, cleanMessage, exitCodeFor, resultFor, summarizeDrift, type ReportInput } from '../../agent/report/build.js';
import { EMPTY_DRIFT, type Drift, type DriftResource } from '../../agent/report/types.js';

const drift = (fields: Partial<Drift>): Drift => ({ ...EMPTY_DRIFT, ...fields });
const source = (status: ReportInput['source']['status'] = 'unchanged'): ReportInput['source'] => ({
  type: 'rsync',
  url_or_bucket: 'agent@10.0.0.5:/',
  status,
  release_id: 'abc',
  files_changed: 0,
  bytes_transferred: 0,
});
const PUPPET_EXIT = { unchanged: 0, changed: 2, failed: 4, timeout: null, skipped: null } as const;
const apply = (status: ReportInput['apply']['status'] = 'unchanged', error?: string, exit?: number | null): ReportInput['apply'] => ({
  status,
  release_id: 'abc',
  puppet_version: '7.23.0',
  puppet_exit_code: exit === undefined ? PUPPET_EXIT[status] : exit,
  duration_ms: 1500,
  ...(error ? { error } : {}),
});
const listed = (name: string, fields: Partial<DriftResource> = {}): DriftResource => ({
  resource: name, type: 'File', title: name, manifest_file: 'site.pp', line: 1, corrective_change: false, flapping: false, failed: false, events: [], ...fields,
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
  const table: Array<[string, Partial<ReportInput>, number, string]> = [
    ['nothing out of sync', {}, 0, 'compliant'],
    ['intentional changes applied', { apply: apply('changed'), drift: drift({ out_of_sync: 2, intentional: 2 }) }, 2, 'changed'],
    ['drift corrected', { apply: apply('changed'), drift: drift({ out_of_sync: 1, corrective: 1 }) }, 2, 'corrected'],
    ['noop drift although Puppet exited 0', { mode: 'noop' as const, drift: drift({ out_of_sync: 1, corrective: 1 }) }, 2, 'drifted'],
    ['a failed resource', { apply: apply('failed'), drift: drift({ out_of_sync: 1, failed: 1 }) }, 4, 'failed'],
    ['a failed resource beside a change', { apply: apply('failed'), drift: drift({ out_of_sync: 2, failed: 1, intentional: 2 }) }, 6, 'failed'],
    ['a compile error (Puppet exit 1)', { apply: apply('failed', 'Error: Could not parse', 1) }, 4, 'failed'],
    ['Puppet exit 6: changes beside a failed resource', { apply: apply('failed', 'Error: x', 6), drift: drift({ out_of_sync: 1, failed: 1, resources: [listed('Exec[x]', { failed: true })] }) }, 6, 'failed'],
    ['noop: a failed resource only', { mode: 'noop' as const, apply: apply('failed', 'Error: x', 4), drift: drift({ out_of_sync: 1, failed: 1, resources: [listed('File[/a]', { failed: true })] }) }, 4, 'failed'],
    ['noop: drift beside a failed resource', { mode: 'noop' as const, apply: apply('failed', 'Error: x', 4), drift: drift({ out_of_sync: 2, failed: 1, corrective: 1, intentional: 1, resources: [listed('File[/a]', { failed: true }), listed('File[/b]')] }) }, 6, 'failed'],
    ['noop: a new release not applied yet', { mode: 'noop' as const, drift: drift({ out_of_sync: 1, intentional: 1, resources: [listed('File[/b]')] }) }, 2, 'drifted'],
    ['corrective and intentional changes together', { apply: apply('changed'), drift: drift({ out_of_sync: 2, corrective: 1, intentional: 1 }) }, 2, 'corrected'],
    ['a Puppet timeout', { apply: apply('timeout') }, 4, 'failed'],
    ['source unreachable, last good tree compliant', { source: source('unreachable') }, 4, 'failed'],
    ['source rejected, last good tree corrected drift', { source: source('rejected'), apply: apply('changed'), drift: drift({ out_of_sync: 1, corrective: 1 }) }, 6, 'failed'],
    ['a skipped apply', { apply: apply('skipped') }, 0, 'compliant'],
    ['disabled', { disabled: { reason: 'maintenance', by: 'alice', at: '2026-11-25T06:00:00Z', until: null } }, 3, 'disabled'],
    ['the agent could not run', { agentError: 'no good release', apply: apply('skipped') }, 1, 'error'],
    ['the agent could not run while the source was down', { agentError: 'no good release', source: source('unreachable'), apply: apply('skipped') }, 1, 'error'],
  ];
  it.each(table.map(([name, fields, exitCode, result]) => ({ name, fields, exitCode, result })))('$name → exit $exitCode, $result', ({ fields, exitCode, result }) => {
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
    expect(report.source.error).toMatch(/^xy+\.\.\.$/);
  });

  it('redacts every match in apply.error, even with a pattern configured without the g flag', () => {
    const report = buildReport(input({ redact: [/password=\S+/], apply: apply('failed', 'Error: password=a\nError: password=b', 4) }));
    expect(report.apply.error).toBe('Error: [redacted]\nError: [redacted]');
  });

  it('cuts a long event message and a long agent error at 1 KB', () => {
    const event = { property: 'returns', previous_value: 'notrun', desired_value: ['0'], status: 'failure' as const, message: 'z'.repeat(4000) };
    const report = buildReport(
      input({ agentError: 'e'.repeat(3000), drift: drift({ out_of_sync: 1, failed: 1, resources: [listed('Exec[x]', { failed: true, events: [event] })] }) }),
    );
    expect(Buffer.byteLength(report.drift.resources[0]!.events[0]!.message)).toBe(1024);
    expect(Buffer.byteLength(report.apply.error!)).toBe(1024);
  });

  it('carries the disabled record', () => {
    const disabled = { reason: 'maintenance', by: 'alice', at: '2026-11-25T06:00:00Z', until: null };
    expect(buildReport(input({ disabled })).disabled).toEqual(disabled);
  });
});

describe('summarizeDrift', () => {
  it('says the counts in one line', () => {
    expect(summarizeDrift(drift({ resources_total: 4, out_of_sync: 2, corrective: 1, intentional: 1, failed: 0, flapping: 1 }))).toBe(
      '4 resources, 2 out of sync (1 corrective, 1 intentional), 0 failed, 1 flapping',
    );
  });
});

describe('cleanMessage', () => {
  it('never splits a multi-byte character', () => {
    const cut = cleanMessage('é'.repeat(2000), []);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut).not.toContain('\uFFFD');
  });
});
