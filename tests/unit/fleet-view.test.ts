import { describe, it, expect } from '@jest/globals';
import { fleetRows, filterRows, summarize, isStale } from '../../agent/fleet/fleet-view.js';
import { fileSdTargets, formatHosts, formatFleetTable } from '../../agent/fleet/format.js';
import { knownHostsLines, sshArgs, remoteCommand } from '../../agent/fleet/fan-out.js';
import type { Fetched } from '../../agent/fleet/s3-read.js';
import type { Registration } from '../../agent/fleet/registration.js';
import type { Report } from '../../agent/report/types.js';

const now = new Date('2026-11-25T12:00:00Z');
const ok = <T>(value: T): Fetched<T> => ({ ok: true, value });
const registration = (id: string, roles = ['web']): Registration => ({
  schema: 'agent.registration/v1', instance_id: id, hostname: id, private_ip: `10.0.0.${id.length}`, public_ip: '203.0.113.1', ami_id: null,
  instance_type: null, availability_zone: null, region: null, roles, ssh_host_keys: ['ssh-ed25519 AAAA'], agent_version: '0.1.0', registered_at: '2026-11-25T00:00:00Z',
});
const report = (id: string, result: Report['result'], finishedAt = '2026-11-25T11:55:00Z', nextDue: string | null = '2026-11-25T12:30:00Z'): Report =>
  ({
    schema: 'agent.report/v1', run_id: 'r', agent_version: 't', trigger: 'schedule', mode: 'enforce', instance: { id, hostname: id, private_ip: '10.0.0.9' },
    started_at: finishedAt, finished_at: finishedAt, duration_ms: 1, next_due_at: nextDue,
    source: { type: 'rsync', url_or_bucket: 'x', status: 'unchanged', release_id: 'abcdef0123456789', files_changed: 0, bytes_transferred: 0 },
    apply: { status: 'unchanged', release_id: 'abcdef0123456789', puppet_version: '7', puppet_exit_code: 0, duration_ms: 1 },
    drift: { resources_total: 3, out_of_sync: 1, corrective: 1, intentional: 0, failed: 0, flapping: 0, resources: [] },
    result, exit_code: 0,
    ...(result === 'disabled' ? { disabled: { reason: 'migration', by: 'alice', at: '2026-11-25T10:00:00Z', until: null } } : {}),
  }) as Report;

const input = {
  registry: new Map<string, Fetched<Registration>>([
    ['i-compliant', ok(registration('i-compliant'))],
    ['i-failed', ok(registration('i-failed', ['db']))],
    ['i-disabled', ok(registration('i-disabled'))],
    ['i-stale', ok(registration('i-stale'))],
    ['i-old-no-due', ok(registration('i-old-no-due'))],
    ['i-new', ok(registration('i-new'))],
    ['i-broken', { ok: false, error: 'not valid JSON: Unexpected token' }],
  ]),
  latest: new Map<string, Fetched<Report>>([
    ['i-compliant', ok(report('i-compliant', 'compliant'))],
    ['i-failed', ok(report('i-failed', 'failed'))],
    ['i-disabled', ok(report('i-disabled', 'disabled'))],
    ['i-stale', ok(report('i-stale', 'compliant', '2026-11-25T10:00:00Z', '2026-11-25T10:35:00Z'))],
    ['i-old-no-due', ok(report('i-old-no-due', 'compliant', '2026-11-25T10:00:00Z', null))],
    ['i-gone', ok(report('i-gone', 'compliant'))],
  ]),
  now,
  driftCheckEveryMs: 30 * 60_000,
  staleAfterMs: 65 * 60_000,
};

describe('fleetRows', () => {
  const rows = fleetRows(input);
  const state = (id: string) => rows.find((row) => row.instance_id === id)?.state;

  it('gives each instance its state (SPEC §2)', () => {
    expect(state('i-compliant')).toBe('compliant');
    expect(state('i-failed')).toBe('failed');
    expect(state('i-disabled')).toBe('disabled');
    expect(state('i-stale')).toBe('stale'); // next_due_at 10:35 + 30m < 12:00
    expect(state('i-old-no-due')).toBe('stale'); // no next_due_at: 2 h > --stale 65m
    expect(state('i-new')).toBe('unreported');
    expect(state('i-gone')).toBe('deregistered');
    expect(state('i-broken')).toBe('unreadable');
  });

  it('keeps the disabled reason and the drift counts', () => {
    expect(rows.find((row) => row.instance_id === 'i-disabled')?.disabled).toMatchObject({ reason: 'migration', by: 'alice' });
    expect(rows.find((row) => row.instance_id === 'i-compliant')?.drift).toEqual({ out_of_sync: 1, corrective: 1, failed: 0, flapping: 0 });
  });

  it('filters by role and by state or result', () => {
    expect(filterRows(rows, { role: 'db' }).map((row) => row.instance_id)).toEqual(['i-failed']);
    expect(filterRows(rows, { state: 'stale' }).map((row) => row.instance_id)).toEqual(['i-old-no-due', 'i-stale']);
  });

  it('summarizes per state and per release', () => {
    const summary = summarize(rows);
    expect(summary.instances).toBe(8);
    expect(summary.by_state).toMatchObject({ compliant: 1, stale: 2, deregistered: 1, unreadable: 1 });
    expect(summary.by_release).toEqual({ abcdef012345: 6 });
  });

  it('prints a table without colours off a TTY', () => {
    const table = formatFleetTable(rows, summarize(rows), now, false);
    expect(table).toMatch(/^INSTANCE +PRIVATE IP/);
    expect(table).toMatch(/i-disabled .*migration \(alice, 2h ago\)/);
    expect(table).not.toContain('\x1b[');
    expect(table).toMatch(/8 instances: /);
  });

  it('is stale only past next_due_at plus one drift_check_every', () => {
    const due = { next_due_at: '2026-11-25T11:40:00Z', finished_at: '2026-11-25T11:00:00Z' };
    expect(isStale(due, { now, driftCheckEveryMs: 30 * 60_000, staleAfterMs: 0 })).toBe(false);
    expect(isStale(due, { now, driftCheckEveryMs: 10 * 60_000, staleAfterMs: 0 })).toBe(true);
  });
});

describe('fleet outputs', () => {
  const rows = filterRows(fleetRows(input), { role: 'web' });

  it('hosts: one address a line', () => {
    expect(formatHosts(rows.slice(0, 2), 'public')).toBe('203.0.113.1\n203.0.113.1\n');
  });

  it('targets: Prometheus file_sd groups with labels', () => {
    const [first] = fileSdTargets(rows, 9100);
    expect(first).toEqual({ targets: [`${rows[0]!.private_ip}:9100`], labels: { instance_id: rows[0]!.instance_id, roles: 'web', release: rows[0]!.release_id ?? '' } });
  });
});

describe('fleet run-now over ssh', () => {
  const rows = fleetRows(input).filter((row) => row.instance_id === 'i-compliant');
  it('pins each host to the key it published itself', () => {
    expect(knownHostsLines(rows, 22)).toBe(`${rows[0]!.private_ip} ssh-ed25519 AAAA\n`);
    expect(knownHostsLines(rows, 2222)).toBe(`[${rows[0]!.private_ip}]:2222 ssh-ed25519 AAAA\n`);
  });

  it('uses BatchMode and strict host key checking, and sudo -n for a non-root user', () => {
    const args = sshArgs('10.0.0.5', { user: 'admin', port: 22, key: '/k', noop: true, parallel: 1, maxFailures: null, timeoutMs: 1, knownHostsFile: '/kh' });
    expect(args).toEqual(expect.arrayContaining(['StrictHostKeyChecking=yes', 'BatchMode=yes', 'UserKnownHostsFile=/kh', 'admin@10.0.0.5']));
    expect(args.slice(args.indexOf('--') + 1)).toEqual(['sudo', '-n', 'agent', 'run-now', '--trigger', 'fleet', '--json', '--noop']);
    expect(remoteCommand({ user: 'root', noop: false })).toEqual(['agent', 'run-now', '--trigger', 'fleet', '--json']);
  });
});
