import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys, fetchJsonMany, type Fetched } from '../fleet/s3-read.js';
import { forEachConcurrently } from '../concurrency.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';
import { checkRegistration, checkReport } from './validate.js';

/**
 * One read of registry/ and latest/ (SPEC §11: a build's cost grows with the hosts, not the history),
 * 32 at a time like `fleet status`, one object per fetch so the progress bar moves without a pause
 * between batches (the progress callback is throttled to every 200 objects). Any listing failure
 * throws: a dashboard of a bucket that cannot be read would show an empty, healthy-looking fleet.
 */
export interface FleetObjects {
  registry: Map<string, Fetched<Registration>>;
  latest: Map<string, Fetched<Report>>;
}

const CONCURRENCY = 32;
const PROGRESS_EVERY = 200;

export async function readFleetObjects(s3: S3Client, bucket: string, prefix: string, onProgress: (done: number, total: number) => void): Promise<FleetObjects> {
  const [registryKeys, latestKeys] = await Promise.all([listKeys(s3, bucket, `${prefix}registry/`), listKeys(s3, bucket, `${prefix}latest/`)]);
  const keys = [...registryKeys, ...latestKeys].filter((key) => key.endsWith('.json'));
  const fetched = new Map<string, Fetched<unknown>>();
  onProgress(0, keys.length);
  await forEachConcurrently(keys, CONCURRENCY, async (key) => {
    for (const [name, value] of await fetchJsonMany<unknown>(s3, bucket, [key], 1)) fetched.set(name, value);
    if (fetched.size % PROGRESS_EVERY === 0 || fetched.size === keys.length) onProgress(fetched.size, keys.length);
  });
  const idOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
  const registry = new Map<string, Fetched<Registration>>();
  const latest = new Map<string, Fetched<Report>>();
  for (const [key, value] of fetched) {
    const relative = key.slice(prefix.length);
    if (relative.startsWith('registry/')) registry.set(idOf(key), checkRegistration(relative, value as Fetched<Registration>));
    else latest.set(idOf(key), checkReport(relative, value as Fetched<Report>));
  }
  return { registry, latest };
}
