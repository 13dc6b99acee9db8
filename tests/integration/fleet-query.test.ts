import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { reportKey } from '../../agent/report/keys.js';
import { sampleReport } from '../helpers/reports.js';
import { runDuckdb } from '../../agent/adapters/duckdb.js';
import { duckdbSetup } from '../../agent/analytics/duckdb-views.js';
import { queryNames, querySql } from '../../agent/analytics/queries.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import type { DriftResource, Report, Result } from '../../agent/report/types.js';

/**
 * The Athena named queries (ami/athena/queries/*.sql) on DuckDB, over report files written by the
 * agent's own report builder in the bucket's layout (reports/dt=…/<id>/….json), with known answers.
 */
let dir: string;

function resource(name: string, flags: Partial<DriftResource> = {}): DriftResource {
  return { resource: name, type: name.split('[')[0]!, title: name, manifest_file: '/m/site.pp', line: 3, corrective_change: false, flapping: false, failed: false,
    events: [{ property: 'content', previous_value: '{sha256}aa', desired_value: '{sha256}bb', status: 'success', message: 'content changed' }], ...flags };
}

function report(id: string, roles: string[], startedAt: string, result: Result, release: string, resources: DriftResource[] = [], extra: Partial<Report['apply']> = {}): Report {
  const base = sampleReport(startedAt, { instanceId: id });
  const corrective = resources.filter((r) => r.corrective_change).length;
  return {
    ...base,
    instance: { ...base.instance, roles },
    result,
    apply: { ...base.apply, release_id: release, ...extra },
    drift: { ...base.drift, resources, out_of_sync: resources.length, corrective, failed: resources.filter((r) => r.failed).length, flapping: resources.filter((r) => r.flapping).length },
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-query-'));
  const flap = resource('File[/etc/motd]', { corrective_change: true, flapping: true });
  const fail = resource('Service[nginx]', { failed: true });
  const reports: Report[] = [
    report('i-web1', ['web'], '2026-11-01T10:00:00Z', 'corrected', 'rel-a', [flap]),
    report('i-web1', ['web'], '2026-11-01T11:00:00Z', 'corrected', 'rel-a', [flap]),
    report('i-web1', ['web'], '2026-11-02T10:00:00Z', 'failed', 'rel-b', [fail]),
    report('i-web2', ['web', 'edge'], '2026-11-02T10:05:00Z', 'corrected', 'rel-a', [flap]),
    report('i-db1', ['db'], '2026-11-01T10:00:00Z', 'compliant', 'rel-a'),
    report('i-db1', ['db'], '2026-11-02T10:00:00Z', 'failed', 'rel-a', [fail], { rolled_back_from: 'rel-b' }),
    report('i-bare', [], '2026-11-02T12:00:00Z', 'compliant', 'rel-b'),
  ];
  for (const one of reports) {
    const path = join(dir, reportKey('', one).replace(/^reports\//, ''));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify(one));
  }
  // a report of another schema version is left out by the views, not an error
  mkdirSync(join(dir, 'dt=2026-11-02', 'i-future'), { recursive: true });
  writeFileSync(join(dir, 'dt=2026-11-02', 'i-future', 'x.json'), JSON.stringify({ schema: 'agent.report/v2', result: 'failed', instance: { id: 'i-future' } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (name: string) => (await runDuckdb(duckdbSetup(dir), querySql(name)!)).rows;

describe('the named queries on DuckDB', () => {
  it('ships the four queries of SPEC §11', () => {
    expect(queryNames()).toEqual(['drift-by-role', 'failing-hosts', 'flapping-resources', 'release-failure-rate']);
  });

  it('drift by role and day counts each host once per role, hosts without roles under "(no role)"', async () => {
    const rows = await run('drift-by-role');
    expect(rows.map((row) => [row.day, row.role, Number(row.runs), Number(row.hosts), Number(row.drifted_resources), Number(row.hosts_with_drift)])).toEqual([
      ['2026-11-01', 'db', 1, 1, 0, 0],
      ['2026-11-01', 'web', 2, 1, 2, 1],
      ['2026-11-02', '(no role)', 1, 1, 0, 0],
      ['2026-11-02', 'db', 1, 1, 0, 0],
      ['2026-11-02', 'edge', 1, 1, 1, 1],
      ['2026-11-02', 'web', 2, 2, 1, 1],
    ]);
  });

  it('flapping resources: runs and hosts per resource, first and last day', async () => {
    const rows = await run('flapping-resources');
    expect(rows.map((row) => [row.resource, Number(row.flapping_runs), Number(row.hosts), row.first_day, row.last_day])).toEqual([['File[/etc/motd]', 3, 2, '2026-11-01', '2026-11-02']]);
  });

  it('hosts failing the most, with their share of failed runs', async () => {
    const rows = await run('failing-hosts');
    expect(rows.map((row) => [row.instance_id, Number(row.runs), Number(row.failed_runs), Number(row.failed_percent)])).toEqual([
      ['i-db1', 2, 1, 50],
      ['i-web1', 3, 1, 33.3],
    ]);
  });

  it('failure rate per release counts a rolled-back run against the release it rolled back from', async () => {
    const rows = await run('release-failure-rate');
    expect(rows.map((row) => [row.release_id, Number(row.runs), Number(row.failed_runs), Number(row.failure_rate_percent)])).toEqual([
      ['rel-b', 3, 2, 66.7],
      ['rel-a', 4, 0, 0],
    ]);
  });

  it('every query reads only the views that both engines define (the same names as ami/athena/tables.sql)', () => {
    const athena = readFileSync(new URL('../../ami/athena/tables.sql', import.meta.url), 'utf8');
    for (const name of queryNames()) {
      const tables = [...querySql(name)!.matchAll(/\bFROM\s+(\w+)/gi)].map((match) => match[1]);
      for (const table of tables) expect(athena).toContain(`VIEW ${table} AS`);
    }
  });
});

describe('agent fleet query', () => {
  it('prints a table, or JSON with --json', async () => {
    const text = await execa(process.execPath, [AGENT_BIN, 'fleet', 'query', 'failing-hosts', '--reports', dir], { reject: false });
    expect(text.exitCode).toBe(0);
    expect(String(text.stdout)).toMatch(/^INSTANCE_ID +RUNS +FAILED_RUNS/);
    expect(String(text.stdout)).toMatch(/i-db1 +2 +1 +50/);
    const json = await execa(process.execPath, [AGENT_BIN, 'fleet', 'query', 'flapping-resources', '--reports', dir, '--json'], { reject: false });
    expect(JSON.parse(String(json.stdout)).rows[0].resource).toBe('File[/etc/motd]');
  });

  it('refuses an unknown query with 64 and names the known ones, and a missing directory with 1', async () => {
    const unknown = await execa(process.execPath, [AGENT_BIN, 'fleet', 'query', 'nope', '--reports', dir], { reject: false });
    expect(unknown.exitCode).toBe(64);
    expect(String(unknown.stderr)).toContain('drift-by-role, failing-hosts, flapping-resources, release-failure-rate');
    const missing = await execa(process.execPath, [AGENT_BIN, 'fleet', 'query', 'failing-hosts', '--reports', join(dir, 'nowhere')], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(String(missing.stderr)).toContain('expected a directory holding dt=YYYY-MM-DD/');
  });
});
