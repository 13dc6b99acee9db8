import { ListObjectsV2Command, GetObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { forEachConcurrently } from '../concurrency.js';

/** Every key under `prefix`, page by page (1,000 a page). */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export type Fetched<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * GET and parse many small JSON objects, at most `concurrency` at a time: 10,000 instances take
 * seconds this way, minutes one by one. An object that is not valid JSON is reported, not fatal.
 */
export async function fetchJsonMany<T>(s3: S3Client, bucket: string, keys: readonly string[], concurrency = 32): Promise<Map<string, Fetched<T>>> {
  const results = new Map<string, Fetched<T>>();
  await forEachConcurrently(keys, concurrency, async (key) => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await object.Body?.transformToString('utf8')) ?? '';
      results.set(key, { ok: true, value: JSON.parse(text) as T });
    } catch (error) {
      results.set(key, { ok: false, error: error instanceof SyntaxError ? `not valid JSON: ${error.message}` : (error as Error).message });
    }
  });
  return results;
}

export async function deleteKey(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
