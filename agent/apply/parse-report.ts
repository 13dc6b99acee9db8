import { parse } from 'yaml';
import { createHash } from 'node:crypto';
import { AgentError } from '../errors.js';
import type { EventStatus } from '../report/types.js';

/** Puppet's `last_run_report.yaml` (report_format 12, Puppet 7), reduced to what the agent uses. */
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
  events: PuppetEvent[];
}

export interface ParsedPuppetReport {
  puppetVersion: string | null;
  status: string;
  noop: boolean;
  noopPending: boolean;
  resources: PuppetResource[];
  /** `err`-level log lines: what went wrong, in Puppet's words. */
  errors: string[];
}

/** Resources Puppet adds to every catalog by itself: counting them would only blur the drift figures. */
const BUILTIN_TYPES = new Set(['Schedule', 'Filebucket']);
const CHECKSUM = /^\{[a-z0-9]+\}[0-9a-f]+$/;
const CONTENT_PROPERTIES = new Set(['content', 'source']);

/** YAML text → typed report. Throws AgentError('puppet') naming what is wrong, never a TypeError. */
export function parsePuppetReport(yamlText: string): ParsedPuppetReport {
  let raw: unknown;
  try {
    raw = parse(yamlText, { logLevel: 'error' }); // the root tag !ruby/object:Puppet::Transaction::Report is dropped
  } catch (error) {
    throw new AgentError('puppet', `Puppet's report is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const report = record(raw, 'the report');
  const statuses = report.resource_statuses === null || report.resource_statuses === undefined ? {} : record(report.resource_statuses, 'resource_statuses');
  const resources = Object.entries(statuses)
    .map(([name, value]) => parseResource(name, record(value, `resource_statuses.${name}`)))
    .filter((resource) => !BUILTIN_TYPES.has(resource.type));
  const logs = Array.isArray(report.logs) ? report.logs : [];
  return {
    puppetVersion: typeof report.puppet_version === 'string' ? report.puppet_version : null,
    status: typeof report.status === 'string' ? report.status : 'unknown',
    noop: report.noop === true,
    noopPending: report.noop_pending === true,
    resources,
    errors: logs
      .filter((log): log is Record<string, unknown> => Boolean(log) && typeof log === 'object' && (log as Record<string, unknown>).level === 'err')
      .map((log) => `${String(log.source ?? 'Puppet')}: ${String(log.message ?? '')}`),
  };
}

function parseResource(name: string, raw: Record<string, unknown>): PuppetResource {
  const events = raw.events === null || raw.events === undefined ? [] : raw.events;
  if (!Array.isArray(events)) throw invalid(`resource_statuses.${name}.events`, 'a list', events);
  return {
    resource: name,
    type: typeof raw.resource_type === 'string' ? raw.resource_type : name.split('[')[0] ?? name,
    title: typeof raw.title === 'string' ? raw.title : name,
    file: typeof raw.file === 'string' ? raw.file : null,
    line: typeof raw.line === 'number' ? raw.line : null,
    outOfSync: raw.out_of_sync === true,
    changed: raw.changed === true,
    failed: raw.failed === true,
    skipped: raw.skipped === true,
    events: events.map((event, index) => parseEvent(record(event, `resource_statuses.${name}.events.${index}`))),
  };
}

function parseEvent(raw: Record<string, unknown>): PuppetEvent {
  const property = typeof raw.property === 'string' ? raw.property : 'unknown';
  const status = raw.status === 'success' || raw.status === 'noop' || raw.status === 'failure' ? raw.status : 'failure';
  const scrub = CONTENT_PROPERTIES.has(property) ? scrubContent : (value: unknown) => value;
  return {
    property,
    previous_value: scrub(raw.previous_value),
    desired_value: scrub(raw.desired_value),
    status,
    message: typeof raw.message === 'string' ? raw.message : '',
  };
}

/**
 * File contents never reach a report (SPEC §5): keep Puppet's checksums, and replace anything else
 * by its digest. Puppet 7 writes content's desired_value base64-encoded (FIELD-NOTES).
 */
export function scrubContent(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (CHECKSUM.test(value)) return value;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  if (CHECKSUM.test(decoded)) return decoded;
  return `{sha256}${createHash('sha256').update(value).digest('hex')}`;
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw invalid(where, 'a mapping', value);
}

function invalid(where: string, expected: string, got: unknown): AgentError {
  const kind = got === null ? 'null' : Array.isArray(got) ? 'a list' : typeof got;
  return new AgentError('puppet', `Puppet's report is not valid: ${where}: expected ${expected}, got ${kind}`);
}
