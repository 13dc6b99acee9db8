import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { readJsonFile, writeFileAtomic } from '../adapters/files.js';
import { readTrustedKeys } from '../release/key-files.js';
import { httpStatus, isMissing, unreachable } from '../source/s3-poll.js';
import { parsePlanPointer, isExpired, type PlanDocument, type PlanPointer } from './document.js';
import { trustPlan } from './trust.js';
import { planSourceKeys } from './keys.js';

/**
 * A host reads plans from its S3 source (SPEC §10). Two ways:
 * - the scheduled poll: one conditional GET of plans/current.json (304 while nothing changed), which
 *   embeds the plan and its signature, so a fleet pays one small request a poll for plans;
 * - `run-now --plan PLAN_ID`: plans/<id>.json and .sig, fetched by name.
 */
type Source = { s3: S3Client; config: Readonly<Config> };

async function getText(source: Source, key: string, ifNoneMatch?: string): Promise<{ text: string; etag: string } | 'missing' | 'not-modified'> {
  try {
    const object = await source.s3.send(new GetObjectCommand({ Bucket: source.config.source.bucket ?? '', Key: key, IfNoneMatch: ifNoneMatch }));
    return { text: (await object.Body?.transformToString('utf8')) ?? '', etag: object.ETag ?? '' };
  } catch (error) {
    if (ifNoneMatch && httpStatus(error) === 304) return 'not-modified';
    if (isMissing(error) || httpStatus(error) === 403) return 'missing'; // no s3:ListBucket: 403 for a missing key
    throw unreachable(`s3://${source.config.source.bucket ?? ''}/${key}`, error);
  }
}

/** plans/<id>.json, trusted; an AgentError naming the object when it is missing, unsigned, tampered or expired. */
export async function fetchPlanById(source: Source, planId: string, now: Date): Promise<PlanDocument> {
  const keys = planSourceKeys(source.config.source.prefix);
  const where = `s3://${source.config.source.bucket ?? ''}/${keys.plan(planId)}`;
  const document = await getText(source, keys.plan(planId));
  if (typeof document === 'string') throw new AgentError('source_rejected', `no plan ${planId}: ${where} does not exist (\`agent plan show\` names the open plan)`);
  const signature = await getText(source, keys.signature(planId));
  const plan = trustPlan(
    { bytes: Buffer.from(document.text), signature: typeof signature === 'string' ? null : signature.text, where },
    await readTrustedKeys(source.config.verify.public_keys),
    now,
  );
  if (plan.plan_id !== planId) throw new AgentError('source_rejected', `${where} holds plan ${plan.plan_id}, not ${planId}`);
  return plan;
}

interface SavedPointer {
  etag: string;
  text: string;
}

/**
 * The open plan as plans/current.json names it, trusted, or null when there is none or it expired
 * (an expired plan is ignored without checking its signature: it could do nothing anyway).
 */
export async function pollOpenPlan(source: Source, pointerFile: string, now: Date): Promise<PlanDocument | null> {
  const keys = planSourceKeys(source.config.source.prefix);
  const where = `s3://${source.config.source.bucket ?? ''}/${keys.pointer}`;
  const saved = await readJsonFile<SavedPointer>(pointerFile);
  const fetched = await getText(source, keys.pointer, saved?.etag || undefined);
  if (fetched === 'missing') {
    if (saved) await writeFileAtomic(pointerFile, '{}\n');
    return null;
  }
  const state = fetched === 'not-modified' ? saved! : fetched;
  if (fetched !== 'not-modified') await writeFileAtomic(pointerFile, `${JSON.stringify(state)}\n`);
  if (!state.text) return null;
  const pointer: PlanPointer = parsePlanPointer(state.text, where);
  if (isExpired(pointer, now)) return null;
  const plan = trustPlan({ bytes: Buffer.from(pointer.document), signature: pointer.signature, where: `${where} (plan ${pointer.plan_id})` }, await readTrustedKeys(source.config.verify.public_keys), now);
  if (plan.plan_id !== pointer.plan_id) throw new AgentError('source_rejected', `${where} names plan ${pointer.plan_id} but embeds plan ${plan.plan_id}`);
  return plan;
}
