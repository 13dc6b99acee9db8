import { AgentError } from '../errors.js';
import type { ReleasePointer } from '../release/manifest.js';

/**
 * SPEC §10: `<prefix>/plans/<plan_id>.json` (+ `.sig`), the signed request "noop this candidate".
 * Written only by `agent plan start`; read by hosts (through plans/current.json, which embeds it) and
 * by `plan show`. A plan changes nothing anywhere, so it has no serial: a replayed old plan is ignored
 * once it is past `expires_at`, and inside that window it could only make hosts noop again.
 */
export const PLAN_SCHEMA = 'agent.plan/v1';
export const PLAN_POINTER_SCHEMA = 'agent.plan-pointer/v1';
/** A plan nobody looked at should not keep hosts busy forever (issue #14: default 1 h). */
export const DEFAULT_PLAN_TTL = '1h';

export interface PlanDocument {
  schema: typeof PLAN_SCHEMA;
  plan_id: string;
  candidate: ReleasePointer;
  /** Hosts carrying any of these roles answer; empty = every host. */
  roles: string[];
  /** Percent (1-100) of the hosts in scope that answer, chosen by a stable hash; null = all of them. */
  sample: number | null;
  created_at: string;
  expires_at: string;
  created_by: string;
}

/**
 * `<prefix>/plans/current.json`: names the open plan and embeds its exact bytes and signature, so a
 * host's poll is one conditional GET (304 while nothing changed) and never a second and third request.
 */
export interface PlanPointer {
  schema: typeof PLAN_POINTER_SCHEMA;
  plan_id: string;
  expires_at: string;
  /** The exact text of plans/<plan_id>.json: what the signature covers. */
  document: string;
  /** plans/<plan_id>.sig, or null for an unsigned plan (accepted only without verify.public_keys). */
  signature: string | null;
}

export const PLAN_ID = /^[A-Za-z0-9._-]{1,100}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** The exact bytes that are signed and stored: stable key order, one trailing newline. */
export function serializePlan(plan: PlanDocument): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

export function isExpired(plan: Pick<PlanDocument, 'expires_at'>, now: Date): boolean {
  return now.getTime() >= Date.parse(plan.expires_at);
}

/** Parse and check a plan's shape; every problem names `where` and the key. */
export function parsePlan(text: string, where: string): PlanDocument {
  const doc = parseObject(text, where) as Partial<PlanDocument>;
  const fail = (key: string, expected: string, got: unknown) => rejected(`${where}: ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  if (doc.schema !== PLAN_SCHEMA) throw fail('schema', `"${PLAN_SCHEMA}"`, doc.schema);
  if (typeof doc.plan_id !== 'string' || !PLAN_ID.test(doc.plan_id)) throw fail('plan_id', 'an id of letters, digits, . _ -', doc.plan_id);
  const candidate = doc.candidate as Partial<ReleasePointer> | undefined;
  if (!candidate || typeof candidate.release_id !== 'string' || !SHA256.test(candidate.release_id) || !Number.isSafeInteger(candidate.serial)) {
    throw fail('candidate', '{release_id: 64 hex digits, serial: a whole number}', candidate);
  }
  if (!Array.isArray(doc.roles) || doc.roles.some((role) => typeof role !== 'string')) throw fail('roles', 'a list of role names', doc.roles);
  if (doc.sample !== null && !(typeof doc.sample === 'number' && doc.sample > 0 && doc.sample <= 100)) throw fail('sample', 'a percent 1-100 or null', doc.sample);
  for (const key of ['created_at', 'expires_at'] as const) {
    if (typeof doc[key] !== 'string' || Number.isNaN(Date.parse(doc[key] as string))) throw fail(key, 'an ISO 8601 time', doc[key]);
  }
  if (typeof doc.created_by !== 'string') throw fail('created_by', 'a string', doc.created_by);
  return doc as PlanDocument;
}

export function parsePlanPointer(text: string, where: string): PlanPointer {
  const pointer = parseObject(text, where) as Partial<PlanPointer>;
  const fail = (key: string, expected: string, got: unknown) => rejected(`${where}: ${key}: expected ${expected}, got ${JSON.stringify(got)}`);
  if (pointer.schema !== PLAN_POINTER_SCHEMA) throw fail('schema', `"${PLAN_POINTER_SCHEMA}"`, pointer.schema);
  if (typeof pointer.plan_id !== 'string' || !PLAN_ID.test(pointer.plan_id)) throw fail('plan_id', 'an id of letters, digits, . _ -', pointer.plan_id);
  if (typeof pointer.expires_at !== 'string' || Number.isNaN(Date.parse(pointer.expires_at))) throw fail('expires_at', 'an ISO 8601 time', pointer.expires_at);
  if (typeof pointer.document !== 'string') throw fail('document', 'the text of the plan document', typeof pointer.document);
  if (pointer.signature !== null && typeof pointer.signature !== 'string') throw fail('signature', 'base64 text or null', pointer.signature);
  return pointer as PlanPointer;
}

function parseObject(text: string, where: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw rejected(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw rejected(`${where}: expected a JSON object`);
  return data as Record<string, unknown>;
}

function rejected(message: string): AgentError {
  return new AgentError('source_rejected', message);
}
