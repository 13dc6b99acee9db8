import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys, fetchJsonMany, type Fetched } from '../fleet/s3-read.js';
import type { Registration } from '../fleet/registration.js';
import type { Report } from '../report/types.js';
import { checkRegistration, checkReport } from './validate.js';

/**
 * One read of registry/ and latest/ (SPEC §11: a build's cost grows with the hosts, not the history),
 * in batches so the progress bar moves; each batch still fetches 32 at a time. Any listing failure
 * throws: a dashboard of a bucket that cannot be read would show an empty, healthy-looking fleet.
 */
export interface FleetObjects {
  registry: Map<string, Fetched<Registration>>;
  latest: Map<string, Fetched<Report>>;
}

const BATCH = 1_000;

export async function readFleetObjects(s3: S3Client, bucket: string, prefix: string, onProgress: (done: number, total: number) => void): Promise<FleetObjects> {
  const [registryKeys, latestKeys] = await Promise.all([listKeys(s3, bucket, `${prefix}registry/`), listKeys(s3, bucket, `${prefix}latest/`)]);
  const keys = [...registryKeys, ...latestKeys].filter((key) => key.endsWith('.json'));
  const fetched = new Map<string, Fetched<unknown>>();
  onProgress(0, keys.length);
  for (let start = 0; start < keys.length; start += BATCH) {
    for (const [key, value] of await fetchJsonMany<unknown>(s3, bucket, keys.slice(start, start + BATCH))) fetched.set(key, value);
    onProgress(Math.min(start + BATCH, keys.length), keys.length);
  }
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
