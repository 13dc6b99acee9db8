import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import { AgentError } from '../errors.js';
import { short, type ReleaseManifest } from '../release/manifest.js';
import { trustManifest, type TrustPolicy } from '../release/verify.js';
import { s3SourceKeys } from './s3-keys.js';
import { httpStatus, isMissing, unreachable } from './s3-poll.js';

/** A release's manifest as fetched, with the bytes and signature the verifier checks again on the staged tree. */
export interface FetchedManifest {
  manifest: ReleaseManifest;
  manifestBytes: Buffer;
  signature: Buffer | null;
}

/**
 * Reading releases from an S3 source: one place for the source stage (s3-source.ts) and a plan's
 * candidate (plan/stage-candidate.ts), so both treat a missing object alike (S3 answers 403 for a
 * missing key to a reader without s3:ListBucket), say where it was, and count what they fetched.
 */
export function s3ReleaseReader(s3: S3Client, source: Pick<Config['source'], 'bucket' | 'prefix'>, signal?: AbortSignal) {
  const bucket = source.bucket ?? '';
  const keys = s3SourceKeys(source.prefix);
  const where = (key: string) => `s3://${bucket}/${key}`;
  const get = (key: string, ifNoneMatch?: string) => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: ifNoneMatch }), { abortSignal: signal });
  let bytes = 0;
  const absent = (error: unknown) => isMissing(error) || httpStatus(error) === 403;

  const getBytes = async (key: string): Promise<Buffer | null> => {
    try {
      const body = Buffer.from(await (await get(key)).Body!.transformToByteArray());
      bytes += body.length;
      return body;
    } catch (error) {
      if (absent(error)) return null;
      throw unreachable(where(key), error);
    }
  };

  return {
    keys,
    where,
    get,
    /** Bytes of manifests, signatures and packs fetched through this reader (objects: downloadMissing counts them). */
    bytes: () => bytes,

    /** The manifest of `releaseId`, trusted under `policy`; `namedBy` says who named the release ("current.json points at"). */
    async trustedManifest(releaseId: string, policy: TrustPolicy, namedBy: string): Promise<FetchedManifest> {
      const key = keys.manifest(releaseId);
      const manifestBytes = await getBytes(key);
      if (!manifestBytes) throw new AgentError('source_rejected', `${namedBy} release ${short(releaseId)}, but ${where(key)} is missing (or unreadable)`);
      const signature = await getBytes(keys.signature(releaseId));
      const manifest = trustManifest({ bytes: manifestBytes, signature: signature?.toString('utf8') ?? null, where: where(key) }, policy)!;
      if (manifest.release_id !== releaseId) throw new AgentError('source_rejected', `${namedBy} release ${short(releaseId)}, but ${where(key)} describes ${short(manifest.release_id)}`);
      return { manifest, manifestBytes, signature };
    },

    /** One object of `manifest` by its digest; a missing one is the release's fault, not the network's. */
    objectOpener(manifest: ReleaseManifest) {
      return async (sha256: string): Promise<Readable> => {
        const key = keys.object(sha256);
        try {
          return (await get(key)).Body as Readable;
        } catch (error) {
          if (absent(error)) throw new AgentError('source_rejected', `release ${short(manifest.release_id)} lists ${where(key)}, which is missing (or unreadable)`);
          throw unreachable(where(key), error);
        }
      };
    },

    /** The release's pack (one GET for a first sync), or null for a release published before packs. */
    packOpener(manifest: ReleaseManifest) {
      return async (): Promise<Readable | null> => {
        const key = keys.pack(manifest.release_id);
        try {
          const response = await get(key);
          bytes += response.ContentLength ?? 0;
          return response.Body as Readable;
        } catch (error) {
          if (absent(error)) return null;
          throw unreachable(where(key), error);
        }
      };
    },
  };
}
