import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { KeyObject } from 'node:crypto';
import { AgentError } from '../errors.js';
import { findSigner, signManifest } from '../release/signature.js';
import { listKeys, fetchJsonMany } from '../fleet/s3-read.js';
import { getText, s3Error, type RolloutStore } from '../rollout/store.js';
import type { Registration } from '../fleet/registration.js';
import { parsePlan, parsePlanPointer, serializePlan, PLAN_POINTER_SCHEMA, type PlanDocument, type PlanPointer } from './document.js';
import { planReportsPrefix, planSourceKeys } from './keys.js';
import type { PlanReport } from './report.js';

/**
 * The publisher's side of plans in S3 (SPEC §10): plans/<id>.json + .sig and plans/current.json in the
 * source bucket, the hosts' answers and the registry in the report bucket. The same store shape as
 * rollouts (a source plus the report bucket), so both commands build it the same way.
 */
export type PlanStore = RolloutStore;
type Bucket = Pick<RolloutStore, 's3' | 'bucket'>;


async function put(store: Bucket, key: string, body: string): Promise<void> {
  try {
    await store.s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body, ContentType: key.endsWith('.json') ? 'application/json' : 'text/plain' }));
  } catch (error) {
    throw s3Error(`write s3://${store.bucket}/${key}`, error);
  }
}

/** The signature, then the plan, then the pointer last: a host never sees a pointer to a half-written plan. */
export async function writePlan(store: PlanStore, plan: PlanDocument, privateKey: KeyObject): Promise<void> {
  const keys = planSourceKeys(store.prefix);
  const document = serializePlan(plan);
  const signature = signManifest(document, privateKey);
  await put(store, keys.signature(plan.plan_id), signature);
  await put(store, keys.plan(plan.plan_id), document);
  const pointer: PlanPointer = { schema: PLAN_POINTER_SCHEMA, plan_id: plan.plan_id, expires_at: plan.expires_at, document, signature };
  await put(store, keys.pointer, `${JSON.stringify(pointer, null, 2)}\n`);
}

export interface StoredPlan {
  plan: PlanDocument;
  /** Whether plans/<id>.sig verifies with `publicKey` (undefined when no key was given to check). */
  signedByKey?: boolean;
}

/** plans/<id>.json, or null when the bucket does not hold it. */
export async function readPlan(store: PlanStore, planId: string, publicKey?: KeyObject): Promise<StoredPlan | null> {
  const keys = planSourceKeys(store.prefix);
  const text = await getText(store, keys.plan(planId));
  if (text === null) return null;
  const plan = parsePlan(text, `s3://${store.bucket}/${keys.plan(planId)}`);
  if (!publicKey) return { plan };
  const signature = await getText(store, keys.signature(planId));
  return { plan, signedByKey: Boolean(signature && findSigner(Buffer.from(text), signature, [{ name: '--key', key: publicKey }])) };
}

/** plans/current.json, or null. */
export async function readPlanPointer(store: PlanStore): Promise<PlanPointer | null> {
  const key = planSourceKeys(store.prefix).pointer;
  const text = await getText(store, key);
  return text === null ? null : parsePlanPointer(text, `s3://${store.bucket}/${key}`);
}

export interface PlanAnswers {
  reports: PlanReport[];
  /** Answers that are not valid JSON: named, never fatal. */
  unreadable: Array<{ key: string; error: string }>;
  /** Every registered host: who should answer. */
  registry: Array<{ instance_id: string; roles: string[] }>;
}

export async function readPlanAnswers(store: PlanStore, planId: string): Promise<PlanAnswers> {
  const { s3, bucket, prefix } = store.reports;
  if (!bucket) throw new AgentError('usage', 'no report bucket: give --bucket or a config file with report.bucket (the hosts\' answers and the registry live there)');
  try {
    const [answerKeys, registryKeys] = await Promise.all([listKeys(s3, bucket, planReportsPrefix(prefix, planId)), listKeys(s3, bucket, `${prefix}registry/`)]);
    const [answers, registry] = await Promise.all([fetchJsonMany<PlanReport>(s3, bucket, answerKeys), fetchJsonMany<Registration>(s3, bucket, registryKeys)]);
    const idOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
    const reports: PlanReport[] = [];
    const unreadable: PlanAnswers['unreadable'] = [];
    for (const [key, entry] of answers) {
      if (entry.ok && entry.value && typeof entry.value === 'object' && entry.value.plan_id === planId) reports.push(entry.value);
      else unreadable.push({ key, error: entry.ok ? 'not a plan report of this plan' : entry.error });
    }
    const hosts = [...registry].flatMap(([key, entry]) => (entry.ok ? [{ instance_id: idOf(key), roles: Array.isArray(entry.value.roles) ? entry.value.roles : [] }] : []));
    return { reports, unreadable, registry: hosts };
  } catch (error) {
    throw s3Error(`read the answers to plan ${planId} from s3://${bucket}/${prefix}`, error);
  }
}
