import type { Dashboard } from './aggregate.js';
import type { HostDetail, RunDetail } from './data.js';

/**
 * The files of the static site, pure: the page's own assets as they are, and the data as JSON wrapped
 * in one call, `dashboardData(name, value);`. Browsers refuse fetch() from file://, but they run a
 * <script src> there and from an S3 website alike: so the same folder works opened from disk or served.
 */
export interface SiteFile {
  path: string;
  body: string;
  contentType: string;
}

export type Assets = ReadonlyArray<{ path: string; body: string }>;

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json' };

export function contentTypeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

export function dataScript(name: string, value: unknown): string {
  return `dashboardData(${JSON.stringify(name)}, ${JSON.stringify(value)});\n`;
}

/** The value inside a data script written by `dataScript`, or undefined when it is not one. */
export function parseDataScript(text: string): { name: string; value: unknown } | undefined {
  const match = /^dashboardData\(("(?:[^"\\]|\\.)*"), ([\s\S]*)\);\n?$/.exec(text);
  if (!match) return undefined;
  try {
    return { name: JSON.parse(match[1]!) as string, value: JSON.parse(match[2]!) };
  } catch {
    return undefined;
  }
}

export function shardPath(shard: number): string {
  return `data/hosts/${String(shard).padStart(2, '0')}.js`;
}

export function siteFiles(dashboard: Dashboard, assets: Assets): SiteFile[] {
  const shards = new Map<number, Record<string, HostDetail>>();
  for (let shard = 0; shard < dashboard.summary.shards; shard++) shards.set(shard, {});
  for (const [index, detail] of dashboard.details.entries()) shards.get(dashboard.hosts[index]![11])![detail.instance_id] = detail;
  const file = (path: string, body: string): SiteFile => ({ path, body, contentType: contentTypeOf(path) });
  return [
    ...assets.map((asset) => file(asset.path, asset.body)),
    file('data/summary.js', dataScript('summary', dashboard.summary)),
    file('data/hosts.js', dataScript('hosts', dashboard.hosts)),
    ...[...shards].map(([shard, details]) => file(shardPath(shard), dataScript(`shard:${shard}`, details))),
    file('history.json', `${JSON.stringify(dashboard.history)}\n`),
  ];
}

/** Earlier builds' runs per host, from the shard files of the previous site (missing or foreign ones give nothing). */
export function previousRunsFrom(shardTexts: Iterable<string>): Map<string, RunDetail[]> {
  const runs = new Map<string, RunDetail[]>();
  for (const text of shardTexts) {
    const parsed = parseDataScript(text);
    if (!parsed || typeof parsed.value !== 'object' || parsed.value === null) continue;
    for (const [id, detail] of Object.entries(parsed.value as Record<string, Partial<HostDetail>>)) {
      if (Array.isArray(detail?.runs)) runs.set(id, detail.runs.filter((run) => run && typeof run.run_id === 'string' && typeof run.finished_at === 'string'));
    }
  }
  return runs;
}
