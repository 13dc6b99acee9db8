import { describe, it, expect } from '@jest/globals';
import { buildDashboard, type DashboardInput } from '../../agent/dashboard/aggregate.js';
import { appendSnapshot, emptyHistory, parseHistory } from '../../agent/dashboard/history.js';
import { checkReport, checkRegistration } from '../../agent/dashboard/validate.js';
import { dataScript, parseDataScript, previousRunsFrom, siteFiles } from '../../agent/dashboard/site.js';
import { progressLine } from '../../agent/dashboard/progress-bar.js';
import { runDetail, RUNS_KEPT } from '../../agent/dashboard/host-detail.js';
import { fleetRows } from '../../agent/fleet/fleet-view.js';
import { STATES } from '../../agent/dashboard/data.js';
import { seededDocuments, seededState, rolloutDocument } from '../helpers/dashboard-fleet.js';
import type { Fetched } from '../../agent/fleet/s3-read.js';
import type { Registration } from '../../agent/fleet/registration.js';
import type { Report } from '../../agent/report/types.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

function input(size: number, overrides: Partial<DashboardInput> = {}): DashboardInput {
  const registry = new Map<string, Fetched<Registration>>();
  const latest = new Map<string, Fetched<Report>>();
  for (let index = 0; index < size; index++) {
    const docs = seededDocuments(index, NOW);
    if (docs.registration) registry.set(docs.id, checkRegistration(`registry/${docs.id}.json`, { ok: true, value: docs.registration as Registration }));
    if (docs.report) latest.set(docs.id, checkReport(`latest/${docs.id}.json`, { ok: true, value: docs.report as Report }));
  }
  return { registry, latest, rollout: rolloutDocument(NOW), now: new Date(NOW), driftCheckEveryMs: 30 * 60_000, staleAfterMs: 65 * 60_000, history: emptyHistory(), days: 14, previousRuns: new Map(), shards: 64, ...overrides };
}

describe('buildDashboard', () => {
  it('counts states exactly as fleet status does (the same fleetRows)', () => {
    const data = input(2000);
    const dashboard = buildDashboard(data);
    const rows = fleetRows({ ...data, now: data.now });
    for (const state of STATES) expect([state, dashboard.summary.by_state[state]]).toEqual([state, rows.filter((row) => row.state === state).length]);
    expect(dashboard.summary.instances).toBe(2000);
    expect(dashboard.hosts).toHaveLength(2000);
    expect(dashboard.summary.by_state.failed).toBeGreaterThan(0);
    expect(dashboard.summary.by_state.stale).toBeGreaterThan(0);
  });

  it('breaks hosts down by release and role, a host with two roles in both, hosts without one under "(no role)"', () => {
    const data = input(700);
    const dashboard = buildDashboard(data);
    const rows = fleetRows(data);
    const total = (key: string) => dashboard.summary.by_role.find((row) => row.key === key)!.instances;
    const withRole = (role: string) => rows.filter((row) => row.roles.includes(role)).length;
    expect(total('edge')).toBe(withRole('edge'));
    expect(total('web')).toBe(withRole('web'));
    expect(withRole('web') + withRole('db') + withRole('cache') + withRole('worker') + total('(no role)')).toBe(700);
    expect(total('(no role)')).toBe(rows.filter((row) => row.roles.length === 0).length);
    expect(dashboard.summary.by_release.reduce((sum, row) => sum + row.instances, 0)).toBe(700);
  });

  it('ranks flapping and failing resources by the hosts that have them, with sample hosts', () => {
    const dashboard = buildDashboard(input(3000));
    expect(dashboard.summary.failing.map((row) => row.resource).sort()).toEqual(['Exec[migrate-db]', 'Service[nginx]']);
    const top = dashboard.summary.flapping[0]!;
    expect(top.hosts).toBeGreaterThanOrEqual(dashboard.summary.flapping.at(-1)!.hosts);
    expect(top.sample.length).toBeGreaterThan(0);
    expect(top.sample.length).toBeLessThanOrEqual(5);
  });

  it('computes the rollout line from rollout.json', () => {
    const dashboard = buildDashboard(input(1000));
    expect(dashboard.summary.rollout).toMatchObject({ rollout_id: rolloutDocument(NOW).rollout_id, from: 'rollout.json', step: 1, steps: 4, percent: 10 });
    expect(dashboard.summary.rollout!.exposed).toBeGreaterThan(50);
  });

  it('lists unreadable entries with the key and reason, and registered hosts without a report', () => {
    const data = input(10);
    data.latest.set('i-bad', checkReport('latest/i-bad.json', { ok: false, error: 'not valid JSON: Unexpected end of JSON input' }));
    data.registry.set('i-bad', { ok: true, value: seededDocuments(1, NOW).registration as Registration });
    data.latest.set('i-future', checkReport('latest/i-future.json', { ok: true, value: { schema: 'agent.report/v2', result: 'compliant' } as unknown as Report }));
    const dashboard = buildDashboard(data);
    expect(dashboard.summary.problems).toEqual(expect.arrayContaining([
      { instance_id: 'i-bad', state: 'unreadable', problem: 'latest/i-bad.json: not valid JSON: Unexpected end of JSON input' },
      { instance_id: 'i-future', state: 'unreadable', problem: 'latest/i-future.json: unknown schema "agent.report/v2" (expected "agent.report/v1")' },
    ]));
  });

  it('keeps the runs earlier builds saw, newest first, at most RUNS_KEPT', () => {
    const first = buildDashboard(input(3));
    const id = first.details[0]!.instance_id;
    const older = Array.from({ length: 12 }, (_, index) => ({ ...first.details[0]!.runs[0]!, run_id: `old-${index}`, finished_at: new Date(NOW - (index + 2) * 3600_000).toISOString() }));
    const again = buildDashboard(input(3, { previousRuns: new Map([[id, older]]) }));
    const runs = again.details.find((detail) => detail.instance_id === id)!.runs;
    expect(runs).toHaveLength(RUNS_KEPT);
    expect(runs[0]!.run_id).toBe(first.details[0]!.runs[0]!.run_id);
    expect(runs[1]!.run_id).toBe('old-0');
  });
});

describe('history.json', () => {
  const counts = (failed: number) => ({ ...Object.fromEntries(STATES.map((state) => [state, 0])), failed } as Record<(typeof STATES)[number], number>);

  it('appends a snapshot per build and drops those older than --days', () => {
    let history = emptyHistory();
    for (let day = 0; day < 5; day++) history = appendSnapshot(history, new Date(NOW + day * 86_400_000), counts(day), 3);
    expect(history.snapshots.map((snapshot) => snapshot.counts[STATES.indexOf('failed')])).toEqual([1, 2, 3, 4]);
  });

  it('maps a history written with other states by name, and refuses one that is not a history', () => {
    const parsed = parseHistory(JSON.stringify({ schema: 'agent.dashboard-history/v1', states: ['failed', 'compliant'], snapshots: [{ at: '2026-12-06T10:00:00Z', counts: [4, 90] }] }));
    expect('history' in parsed && parsed.history.snapshots[0]!.counts[STATES.indexOf('failed')]).toBe(4);
    expect('history' in parsed && parsed.history.snapshots[0]!.counts[STATES.indexOf('compliant')]).toBe(90);
    expect(parseHistory('{"oops"')).toEqual({ problem: expect.stringMatching(/^history.json: not valid JSON/) });
    expect(parseHistory('[]')).toEqual({ problem: expect.stringContaining('expected schema "agent.dashboard-history/v1"') });
  });
});

describe('site files', () => {
  it('wraps data in dashboardData(...) calls that read back, and puts every host in its shard', () => {
    const dashboard = buildDashboard(input(300));
    const files = siteFiles(dashboard, [{ path: 'index.html', body: '<html>' }]);
    expect(parseDataScript(dataScript('x', { a: '</script>"' }))).toEqual({ name: 'x', value: { a: '</script>"' } });
    const shards = files.filter((file) => file.path.startsWith('data/hosts/'));
    expect(shards).toHaveLength(64);
    expect([...previousRunsFrom(shards.map((file) => file.body)).keys()].sort()).toEqual(dashboard.hosts.map((host) => host[0]).sort());
    expect(files.find((file) => file.path === 'index.html')!.contentType).toBe('text/html; charset=utf-8');
  });

  it('cuts long event values so one host cannot bloat its shard', () => {
    const index = Array.from({ length: 1000 }, (_, i) => i).find((i) => seededState(i) === 'changed')!;
    const report = seededDocuments(index, NOW).report as Report;
    const long = { ...report, drift: { ...report.drift, resources: [{ ...report.drift.resources[0]!, events: [{ property: 'content', previous_value: 'x'.repeat(5000), desired_value: 'y', status: 'success' as const, message: 'm' }] }] } };
    expect(runDetail(long).resources[0]!.events[0]!.previous).toMatch(/^x{300}… \(5000 characters\)$/);
  });
});

describe('the progress line', () => {
  it('fills with the objects read', () => {
    expect(progressLine(0, 20000, 10)).toBe('agent: dashboard: reading S3 [..........] 0/20,000 objects');
    expect(progressLine(10000, 20000, 10)).toBe('agent: dashboard: reading S3 [#####.....] 10,000/20,000 objects');
    expect(progressLine(0, 0, 4)).toBe('agent: dashboard: reading S3 [####] 0/0 objects');
  });
});
