import { createPublicKey, type KeyObject } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AgentError } from '../errors.js';
import { describeS3Error } from '../adapters/s3.js';
import { s3SourceKeys } from '../source/s3-keys.js';
import { findSigner, signManifest } from '../release/signature.js';
import { parsePointer, type ReleasePointer } from '../release/manifest.js';
import { listKeys, fetchJsonMany } from '../fleet/s3-read.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';
import { parseRollout, serializeRollout, type RolloutDocument } from './document.js';
import type { RolloutHost } from './tally.js';

/**
 * The publisher's side of the S3 source for rollouts (SPEC §9): rollout.json and its signature,
 * current.json, and the fleet (registry/ + latest/) the controller decides from. The only rollout
 * file that talks to S3.
 */
export interface RolloutStore {
  s3: S3Client;
  bucket: string;
  prefix: string;
  /** The report bucket, where registry/ and latest/ live. */
  reports: { s3: S3Client; bucket: string; prefix: string };
}

export interface StoredRollout {
  doc: RolloutDocument;
  /** rollout.sig as stored (one signature a line). */
  signature: string | null;
}

type Source = Pick<RolloutStore, 's3' | 'bucket' | 'prefix'>;

const where = (store: Source, key: string) => `s3://${store.bucket}/${key}`;

/** An object's text, or null when it is not there. Shared with plan/store.ts. */
export async function getText(store: Pick<RolloutStore, 's3' | 'bucket'>, key: string): Promise<string | null> {
  try {
    const object = await store.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as { name?: string }).name === 'NoSuchKey' || status === 404) return null;
    throw s3Error(`read s3://${store.bucket}/${key}`, error);
  }
}

async function put(store: Pick<RolloutStore, 's3' | 'bucket'>, key: string, body: string, contentType: string): Promise<void> {
  try {
    await store.s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body, ContentType: contentType }));
  } catch (error) {
    throw s3Error(`write s3://${store.bucket}/${key}`, error);
  }
}

export function s3Error(what: string, error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  return new AgentError('internal', `${what}: ${describeS3Error(error)}`, { cause: error });
}

/** rollout.json, checked with `publicKey` when given (a tampered document is refused); null when there is none. */
export async function readRollout(store: Source, publicKey?: KeyObject): Promise<StoredRollout | null> {
  const keys = s3SourceKeys(store.prefix);
  const text = await getText(store, keys.rollout);
  if (text === null) return null;
  const signature = await getText(store, keys.rolloutSignature);
  if (publicKey) {
    const lines = (signature ?? '').split('\n').filter((line) => line.trim());
    if (!lines.some((line) => findSigner(Buffer.from(text), line, [{ name: '--key', key: publicKey }]))) {
      throw new AgentError('internal', `${where(store, keys.rollout)}: its signature does not verify with the public half of --key: tampered, half-written by another writer, or not this publisher's rollout; nothing was written`);
    }
  }
  return { doc: parseRollout(text, where(store, keys.rollout)), signature };
}

/**
 * Sign and write `doc`: rollout.sig first (the new signature, then the previous document's, so a
 * writer stopped here leaves a pair that still verifies), then rollout.json.
 */
export async function writeRollout(store: RolloutStore, doc: RolloutDocument, privateKey: KeyObject, previous: StoredRollout | null): Promise<void> {
  const keys = s3SourceKeys(store.prefix);
  const bytes = serializeRollout(doc);
  const kept = (previous?.signature ?? '').split('\n').filter((line) => line.trim()).slice(0, 1);
  await put(store, keys.rolloutSignature, [signManifest(bytes, privateKey).trim(), ...kept].join('\n') + '\n', 'text/plain');
  await put(store, keys.rollout, bytes, 'application/json');
}

export async function readPointer(store: RolloutStore): Promise<ReleasePointer | null> {
  const keys = s3SourceKeys(store.prefix);
  const text = await getText(store, keys.current);
  return text === null ? null : parsePointer(text, where(store, keys.current));
}

/** current.json: the release every host not in a rollout runs; `rollout_id` tells hosts to read rollout.json too. */
export async function writePointer(store: RolloutStore, pointer: ReleasePointer): Promise<void> {
  await put(store, s3SourceKeys(store.prefix).current, `${JSON.stringify(pointer)}\n`, 'application/json');
}

/** A release's manifest text and signature, or null when the bucket does not hold it. */
export async function readRelease(store: RolloutStore, releaseId: string): Promise<{ manifest: string; signature: string | null } | null> {
  const keys = s3SourceKeys(store.prefix);
  const manifest = await getText(store, keys.manifest(releaseId));
  if (manifest === null) return null;
  return { manifest, signature: await getText(store, keys.signature(releaseId)) };
}

/** Is `signature` over `bytes` by `privateKey`'s public half? (Is --key the publisher's?) */
export function signedBy(bytes: string, signature: string | null, privateKey: KeyObject): boolean {
  return Boolean(signature && findSigner(Buffer.from(bytes), signature, [{ name: '--key', key: createPublicKey(privateKey) }]));
}

/** Every registered host with its roles and latest report: what the controller decides from. */
export async function readFleet(store: RolloutStore): Promise<RolloutHost[]> {
  const { s3, bucket, prefix } = store.reports;
  try {
    const [registryKeys, latestKeys] = await Promise.all([listKeys(s3, bucket, `${prefix}registry/`), listKeys(s3, bucket, `${prefix}latest/`)]);
    const [registry, latest] = await Promise.all([fetchJsonMany<Registration>(s3, bucket, registryKeys), fetchJsonMany<Report>(s3, bucket, latestKeys)]);
    const idOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
    const reports = new Map([...latest].map(([key, value]) => [idOf(key), value]));
    return [...registry].flatMap(([key, entry]) => {
      if (!entry.ok) return [];
      const report = reports.get(idOf(key));
      return [{ instance_id: idOf(key), roles: entry.value.roles ?? [], report: report?.ok ? report.value : null }];
    });
  } catch (error) {
    throw s3Error(`read the fleet from s3://${bucket}/${prefix}`, error);
  }
}
