/**
 * Field readers for Puppet's report (parse-report.ts): type checks that fail with an AgentError naming
 * the key, the content scrubber that keeps file contents out of reports, and the metrics summary.
 */
import { createHash } from 'node:crypto';
import { AgentError } from '../errors.js';

/** Puppet's checksum notation, e.g. `{sha256}f8f4...` or `{md5}...`; `{mtime}` and `{ctime}` are times. */
const CHECKSUM = /^\{[a-z0-9]+\}[0-9a-f]+$/;
/** A content/source value that is Puppet's keyword for "no file", not file contents. */
const ABSENT = 'absent';

/**
 * File contents never reach a report (SPEC §5). Keep Puppet's checksums (Puppet 7 writes the desired
 * one base64-encoded: FIELD-NOTES), and replace anything else, which may be the content itself, by its
 * SHA-256 in Puppet's notation, so equal contents still compare equal.
 */
export function scrubContent(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    if (CHECKSUM.test(value) || value === ABSENT) return value;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    if (CHECKSUM.test(decoded)) return decoded;
  }
  const bytes = typeof value === 'string' ? value : JSON.stringify(value);
  return `{sha256}${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface PuppetMetrics {
  /** Puppet's resource counts by name: total, changed, out_of_sync, failed, skipped, ... */
  resources: Record<string, number>;
  /** Event counts: total, success, failure, noop. */
  events: Record<string, number>;
  /** Seconds Puppet spent, by its own clock (metrics.time.total); null when absent. */
  totalSeconds: number | null;
}

/**
 * Puppet's metrics are `{<group>: {values: [[name, label, number], ...]}}`. Informational only (the
 * agent counts from resource_statuses), so a malformed entry is skipped rather than fatal.
 */
export function summarizeMetrics(raw: unknown): PuppetMetrics {
  const groups = isRecord(raw) ? raw : {};
  const values = (group: string): Record<string, number> => {
    const entry = groups[group];
    const rows = isRecord(entry) && Array.isArray(entry.values) ? entry.values : [];
    const pairs = rows.flatMap((row: unknown) =>
      Array.isArray(row) && typeof row[0] === 'string' && typeof row[2] === 'number' ? [[row[0], row[2]] as const] : [],
    );
    return Object.fromEntries(pairs);
  };
  return { resources: values('resources'), events: values('events'), totalSeconds: values('time').total ?? null };
}

export function record(value: unknown, where: string): Record<string, unknown> {
  if (isRecord(value)) return value;
  throw invalid(where, 'a mapping', value);
}

export function list(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw invalid(where, 'a list', value);
}

/** Strings as they are; numbers and booleans YAML typed on the way (a title `80`) back to text. */
export function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
}

export function invalid(where: string, expected: string, got: unknown): AgentError {
  const kind = got === null || got === undefined ? 'nothing' : Array.isArray(got) ? 'a list' : typeof got;
  return new AgentError('puppet', `Puppet report is not valid: ${where}: expected ${expected}, got ${kind}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
