import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

/**
 * The page's pure scripts (agent/dashboard/web/format.js, table-model.js), loaded exactly as the
 * browser loads them: classic scripts run against a global object, here a fresh VM context.
 */
interface Table { page(query: Record<string, unknown>): { total: number; pages: number; page: number; rows: unknown[][] }; size: number }
interface Web {
  DashboardTable: { createTable(hosts: unknown[][], keys?: Record<string, (host: unknown[]) => number>): Table; ipKey(ip: string): string };
  DashboardFormat: { age(epoch: number, now: number): string; escapeHtml(text: unknown): string; shardFile(shard: number): string; runHasEvents(run: unknown): boolean; percent(a: number, b: number): string };
}

function loadWeb(): Web {
  const context: Record<string, unknown> = {};
  for (const file of ['format.js', 'table-model.js']) runInNewContext(readFileSync(new URL(`../../agent/dashboard/web/${file}`, import.meta.url), 'utf8'), context);
  return context as unknown as Web;
}

const web = loadWeb();
// [id, hostname, ip, state, roles, release, lastRun, oos, corrective, failed, flapping, shard]
const hosts = Array.from({ length: 12_000 }, (_, i) => [
  `i-${i.toString(16).padStart(8, '0')}`, `web-${i}.prod`, `10.0.${(i >> 8) & 255}.${i & 255}`, i % 11, i % 5 === 0 ? [0, 1] : [i % 3], i % 4 === 0 ? -1 : i % 3, 1_700_000_000 + i, i % 7, i % 2, i % 13 === 0 ? 1 : 0, 0, i % 64,
]);
const all = { state: -1, role: -1, release: -1, search: '', sort: 'id', dir: 1, page: 0, pageSize: 50 };

describe('the hosts table model', () => {
  const table = web.DashboardTable.createTable(hosts);

  it('pages through every host exactly once', () => {
    const seen = new Set<unknown>();
    const first = table.page(all);
    expect(first.pages).toBe(240);
    for (let page = 0; page < first.pages; page++) for (const row of table.page({ ...all, page }).rows) seen.add(row[0]);
    expect(seen.size).toBe(12_000);
  });

  it('clamps a page past the end to the last one', () => {
    expect(table.page({ ...all, page: 10_000 }).page).toBe(239);
  });

  it('sorts numerically, text in order, and both ways, ties by id', () => {
    const byFailed = table.page({ ...all, sort: 'failed', dir: -1 }).rows;
    expect(byFailed.every((row) => row[9] === 1)).toBe(true);
    expect((byFailed.map((row) => row[0]) as string[])).toEqual([...(byFailed.map((row) => row[0]) as string[])].sort());
    expect(table.page({ ...all, dir: -1 }).rows[0]![0]).toBe('i-00002edf');
    const byIp = table.page({ ...all, sort: 'ip' }).rows.map((row) => row[2]);
    expect(byIp.slice(0, 3)).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2']); // 10.0.0.10 is not second
  });

  it('filters by state, role and release together', () => {
    const result = table.page({ ...all, state: 3, role: 1, release: 2 });
    const expected = hosts.filter((h) => h[3] === 3 && (h[4] as number[]).includes(1) && h[5] === 2);
    expect(result.total).toBe(expected.length);
    expect(result.rows.every((row) => row[3] === 3 && (row[4] as number[]).includes(1) && row[5] === 2)).toBe(true);
  });

  it('searches ids, hostnames and IPs, case-insensitively', () => {
    expect(table.page({ ...all, search: 'I-00000ABC' }).rows.map((row) => row[0])).toEqual(['i-00000abc']);
    expect(table.page({ ...all, search: 'web-11999.' }).total).toBe(1);
    expect(table.page({ ...all, search: '10.0.20.' }).total).toBe(256);
    expect(table.page({ ...all, search: 'nothing-like-this' }).total).toBe(0);
  });

  it('sorts by an extra key the page computes (state urgency)', () => {
    const ranked = web.DashboardTable.createTable(hosts, { rank: (host) => (host[3] === 4 ? 0 : 1) });
    expect(ranked.page({ ...all, sort: 'rank' }).rows.every((row) => row[3] === 4)).toBe(true);
  });

  it('answers a new query over 12,000 hosts in well under a frame budget of 100 ms, and a page turn from the cache', () => {
    const fresh = web.DashboardTable.createTable(hosts);
    let started = performance.now();
    fresh.page({ ...all, sort: 'lastRun', dir: -1, search: '10.0.' });
    const query = performance.now() - started;
    started = performance.now();
    for (let page = 1; page < 100; page++) fresh.page({ ...all, sort: 'lastRun', dir: -1, search: '10.0.', page });
    const turns = (performance.now() - started) / 99;
    expect(query).toBeLessThan(100);
    expect(turns).toBeLessThan(2);
  });
});

describe('the page helpers', () => {
  const F = web.DashboardFormat;
  it('escapes HTML so ids and messages from reports cannot inject markup', () => {
    expect(F.escapeHtml('<img src=x onerror="alert(1)">&\'')).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    expect(F.escapeHtml(null)).toBe('');
  });
  it('says ages the way an operator reads them', () => {
    const now = 1_700_000_000_000;
    expect([F.age(0, now), F.age(now / 1000 - 30, now), F.age(now / 1000 - 600, now), F.age(now / 1000 - 7200, now), F.age(now / 1000 - 3 * 86400, now)]).toEqual(['-', '30s', '10m', '2h', '3d']);
  });
  it('names shard files as the builder writes them', () => {
    expect([F.shardFile(3), F.shardFile(63)]).toEqual(['data/hosts/03.js', 'data/hosts/63.js']);
  });
  it('tells runs with events from runs without', () => {
    expect(F.runHasEvents({ resources: [] })).toBe(false);
    expect(F.runHasEvents({ resources: [{ events: [{}] }] })).toBe(true);
    expect(F.runHasEvents({ resources: [{ events: [], failed: true }] })).toBe(true);
  });
});
