import type { Report } from './types.js';

/**
 * S3 keys of the report bucket (SPEC §4), pure. Every key is derived from the report itself, so an
 * upload retried after a timeout overwrites its own object instead of adding a second copy.
 */

/** '' stays '', 'fleet' and 'fleet/' both become 'fleet/'; a leading '/' would make an empty path segment. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** An ISO 8601 instant, or undefined when `iso` is not one (a report from another tool, a typo). */
function toUtc(iso: string): Date | undefined {
  // Date.parse accepts '2026' or 'Nov 25': demand a date and a time, so a key never rests on a guess
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)) return undefined;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : new Date(time);
}

export function isIsoInstant(iso: string): boolean {
  return toUtc(iso) !== undefined;
}

function utcIso(iso: string): string {
  const date = toUtc(iso);
  if (!date) throw new RangeError(`expected an ISO 8601 time, got ${JSON.stringify(iso)}`);
  return date.toISOString();
}

/** 2026-11-25T07:09:42.123Z → 20261125T070942Z; an offset is converted to UTC first. */
export function compactTimestamp(iso: string): string {
  return `${utcIso(iso).slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** The UTC day of `iso`, YYYY-MM-DD: the Hive-style partition (a run at 23:30-05:00 belongs to the next day). */
export function utcDate(iso: string): string {
  return utcIso(iso).slice(0, 10);
}

/** reports/dt=<YYYY-MM-DD>/<instance_id>/<YYYYMMDDTHHMMSSZ>-<run_id>.json */
export function reportKey(prefix: string, report: Pick<Report, 'started_at' | 'run_id' | 'instance'>): string {
  const name = `${compactTimestamp(report.started_at)}-${report.run_id}.json`;
  return `${normalizePrefix(prefix)}reports/dt=${utcDate(report.started_at)}/${report.instance.id}/${name}`;
}

/** What `fleet status` reads: the newest report of each instance. */
export function latestKey(prefix: string, instanceId: string): string {
  return `${normalizePrefix(prefix)}latest/${instanceId}.json`;
}

export function registryKey(prefix: string, instanceId: string): string {
  return `${normalizePrefix(prefix)}registry/${instanceId}.json`;
}
