import type { Report } from './types.js';

/** '' stays '', 'fleet' and 'fleet/' both become 'fleet/'. */
export function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** 2026-11-25T07:09:42.123Z → 20261125T070942Z */
export function compactTimestamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+/, '').replace(/Z?$/, 'Z');
}

/** SPEC §4: reports/dt=<YYYY-MM-DD>/<instance_id>/<YYYYMMDDTHHMMSSZ>-<run_id>.json, a Hive-style date partition. */
export function reportKey(prefix: string, report: Pick<Report, 'started_at' | 'run_id' | 'instance'>): string {
  const date = report.started_at.slice(0, 10);
  return `${normalizePrefix(prefix)}reports/dt=${date}/${report.instance.id}/${compactTimestamp(report.started_at)}-${report.run_id}.json`;
}

export function latestKey(prefix: string, instanceId: string): string {
  return `${normalizePrefix(prefix)}latest/${instanceId}.json`;
}

export function registryKey(prefix: string, instanceId: string): string {
  return `${normalizePrefix(prefix)}registry/${instanceId}.json`;
}
