import type { Fetched } from '../fleet/s3-read.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';

/**
 * What the dashboard accepts from S3, pure. A `latest/` report of another schema version (a newer agent
 * writing v2) or of the wrong shape would otherwise make the page lie or throw; it becomes an
 * `unreadable` entry that names the key and what was expected, and the rest of the fleet still shows.
 */
export function checkReport(key: string, fetched: Fetched<Report>): Fetched<Report> {
  if (!fetched.ok) return { ok: false, error: `${key}: ${fetched.error}` };
  const value = fetched.value as unknown as Record<string, unknown> | null;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `${key}: expected a JSON object, got ${JSON.stringify(value)?.slice(0, 40)}` };
  if (value.schema !== 'agent.report/v1') return { ok: false, error: `${key}: unknown schema ${JSON.stringify(value.schema)?.slice(0, 60)} (expected "agent.report/v1")` };
  const shapeProblem = reportShapeProblem(value);
  return shapeProblem ? { ok: false, error: `${key}: ${shapeProblem}` } : fetched;
}

function reportShapeProblem(value: Record<string, unknown>): string | undefined {
  const object = (name: string) => (typeof value[name] === 'object' && value[name] !== null ? undefined : `${name}: expected an object`);
  for (const name of ['instance', 'source', 'apply', 'drift']) {
    const problem = object(name);
    if (problem) return problem;
  }
  if (typeof value.result !== 'string') return 'result: expected a string';
  if (typeof value.finished_at !== 'string' || Number.isNaN(Date.parse(value.finished_at))) return `finished_at: expected an ISO 8601 time, got ${JSON.stringify(value.finished_at)}`;
  if (!Array.isArray((value.drift as { resources?: unknown }).resources)) return 'drift.resources: expected a list';
  return undefined;
}

export function checkRegistration(key: string, fetched: Fetched<Registration>): Fetched<Registration> {
  if (!fetched.ok) return { ok: false, error: `${key}: ${fetched.error}` };
  const value = fetched.value as unknown as Record<string, unknown> | null;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: `${key}: expected a JSON object` };
  if (value.schema !== 'agent.registration/v1') return { ok: false, error: `${key}: unknown schema ${JSON.stringify(value.schema)?.slice(0, 60)} (expected "agent.registration/v1")` };
  if (value.roles !== undefined && !Array.isArray(value.roles)) return { ok: false, error: `${key}: roles: expected a list` };
  return fetched;
}
