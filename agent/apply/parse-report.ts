/**
 * Puppet's `last_run_report.yaml` (report_format 12, Puppet 7) → typed data, reduced to what the agent
 * uses. Pure. Anything malformed throws AgentError('puppet', ...) naming the key and what came, never a
 * TypeError: a report is input from another program and may be cut short by a full disk or a kill.
 * Samples of real reports: tests/fixtures/puppet-reports/ (capture.sh regenerates them).
 */
import { parse } from 'yaml';
import { AgentError } from '../errors.js';
import type { EventStatus } from '../report/types.js';
import { invalid, list, record, scrubContent, summarizeMetrics, textOf, type PuppetMetrics } from './report-fields.js';

export { scrubContent, type PuppetMetrics } from './report-fields.js';

export interface PuppetEvent {
  property: string;
  previous_value: unknown;
  desired_value: unknown;
  status: EventStatus;
  message: string;
}

export interface PuppetResource {
  resource: string;
  type: string;
  title: string;
  file: string | null;
  line: number | null;
  outOfSync: boolean;
  changed: boolean;
  failed: boolean;
  skipped: boolean;
  /** Puppet's own corrective_change: always false under `puppet apply` (the agent works it out, report/drift.ts). */
  corrective: boolean;
  events: PuppetEvent[];
}

export interface PuppetLog {
  level: string;
  message: string;
  source: string;
}

export interface ParsedPuppetReport {
  puppetVersion: string | null;
  /** Puppet's verdict: changed | unchanged | failed. */
  status: string;
  noop: boolean;
  /** Noop found something to change (Puppet still exits 0: FIELD-NOTES). */
  noopPending: boolean;
  resources: PuppetResource[];
  logs: PuppetLog[];
  /** `err`-level log lines as `source: message`: what went wrong, in Puppet's words. */
  errors: string[];
  metrics: PuppetMetrics;
}

/** Resources Puppet adds to every catalog by itself: counting them would only blur the drift figures. */
const BUILTIN_TYPES = new Set(['Schedule', 'Filebucket']);
/**
 * Puppet writes this key last (after resource_statuses), with one of these values. A report cut at a
 * line boundary is still valid YAML; a missing or clipped last key is how truncation shows.
 */
const LAST_KEY = 'cached_catalog_status';
const CACHED_CATALOG_STATUSES = new Set(['not_used', 'explicitly_requested', 'on_failure']);
const EVENT_STATUSES = new Set<EventStatus>(['success', 'noop', 'failure']);

export function parsePuppetReport(yamlText: string): ParsedPuppetReport {
  let raw: unknown;
  try {
    // logLevel 'error': Puppet tags the root `!ruby/object:Puppet::Transaction::Report`; unknown tags are dropped
    raw = parse(yamlText, { logLevel: 'error' });
  } catch (error) {
    throw new AgentError('puppet', `Puppet report is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  const report = record(raw, 'the report');
  if (typeof report.status !== 'string') throw invalid('status', 'a string', report.status);
  if (typeof report[LAST_KEY] !== 'string' || !CACHED_CATALOG_STATUSES.has(report[LAST_KEY])) {
    throw new AgentError('puppet', `Puppet report is not valid: it ends before its last key ${LAST_KEY} (truncated?)`);
  }
  const resources = Object.entries(record(report.resource_statuses, 'resource_statuses'))
    .map(([name, value]) => parseResource(name, record(value, `resource_statuses.${name}`)))
    .filter((resource) => !BUILTIN_TYPES.has(resource.type));
  const logs = list(report.logs ?? [], 'logs').map((log, index) => parseLog(record(log, `logs.${index}`)));
  const version = report.puppet_version;
  return {
    puppetVersion: typeof version === 'string' || typeof version === 'number' ? String(version) : null,
    status: report.status,
    noop: report.noop === true,
    noopPending: report.noop_pending === true,
    resources,
    logs,
    errors: logs.filter((log) => log.level === 'err').map((log) => `${log.source}: ${log.message}`),
    metrics: summarizeMetrics(report.metrics),
  };
}

function parseResource(name: string, raw: Record<string, unknown>): PuppetResource {
  const events = list(raw.events ?? [], `resource_statuses.${name}.events`);
  return {
    resource: name,
    type: typeof raw.resource_type === 'string' ? raw.resource_type : (name.split('[')[0] ?? name),
    title: textOf(raw.title) ?? name,
    file: typeof raw.file === 'string' ? raw.file : null,
    line: typeof raw.line === 'number' ? raw.line : null,
    outOfSync: raw.out_of_sync === true,
    changed: raw.changed === true,
    failed: raw.failed === true,
    skipped: raw.skipped === true,
    corrective: raw.corrective_change === true,
    events: events.map((event, index) => parseEvent(record(event, `resource_statuses.${name}.events.${index}`))),
  };
}

function parseEvent(raw: Record<string, unknown>): PuppetEvent {
  const property = textOf(raw.property) ?? 'unknown';
  // content/source values may be the file itself (FIELD-NOTES: desired is base64): checksums only
  const scrub = property === 'content' || property === 'source' ? scrubContent : (value: unknown) => value;
  return {
    property,
    previous_value: scrub(raw.previous_value ?? null),
    desired_value: scrub(raw.desired_value ?? null),
    // an event Puppet could not label is treated as the worst case
    status: EVENT_STATUSES.has(raw.status as EventStatus) ? (raw.status as EventStatus) : 'failure',
    message: textOf(raw.message) ?? '',
  };
}

function parseLog(raw: Record<string, unknown>): PuppetLog {
  return { level: textOf(raw.level) ?? 'unknown', message: textOf(raw.message) ?? '', source: textOf(raw.source) ?? 'Puppet' };
}
