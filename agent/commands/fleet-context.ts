import type { S3Client } from '@aws-sdk/client-s3';
import type { ParsedCommand } from '../cli.js';
import { operatorConfig, operatorLocation } from './operator-s3.js';
import { createS3Client } from '../adapters/s3.js';
import { AgentError } from '../errors.js';
import { normalizePrefix } from '../report/keys.js';
import { fetchJsonMany } from '../fleet/s3-read.js';
import { s3SourceKeys } from '../source/s3-keys.js';
import type { RolloutDocument } from '../rollout/document.js';

/** What the `fleet` commands read: the report bucket, the timing that makes a host stale, and rollout.json. */
export interface FleetContext {
  s3: S3Client;
  bucket: string;
  prefix: string;
  driftCheckEveryMs: number;
  splayMs: number;
  /** The config's S3 source, where rollout.json lives (SPEC §9); none for an rsync source or no config. */
  source?: { s3: S3Client; bucket: string; rolloutKey: string };
}

const DEFAULTS = { driftCheckEveryMs: 30 * 60_000, splayMs: 5 * 60_000 };

/** Bucket, prefix, endpoint from the config's report: section when there is a config; flags override. */
export function fleetContext(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): FleetContext {
  const { config, path } = operatorConfig(values, env);
  const bucket = (values.bucket as string | undefined) ?? config?.report.bucket;
  if (!bucket) throw new AgentError('usage', `no bucket: give --bucket or a config file with report.bucket (looked for ${path})`);
  const location = operatorLocation(values, config?.report, env);
  return {
    s3: createS3Client(location, env),
    bucket,
    prefix: normalizePrefix((values.prefix as string | undefined) ?? config?.report.prefix ?? ''),
    driftCheckEveryMs: config?.drift_check_every ?? DEFAULTS.driftCheckEveryMs,
    splayMs: config?.splay ?? DEFAULTS.splayMs,
    ...(config?.source.type === 's3' && config.source.bucket
      ? { source: { s3: createS3Client(config.source, env), bucket: config.source.bucket, rolloutKey: s3SourceKeys(config.source.prefix).rollout } }
      : {}),
  };
}

/** rollout.json as the source holds it; null when there is none or it cannot be read (the reports still tell). */
export async function readRolloutDocument(context: FleetContext): Promise<RolloutDocument | null> {
  if (!context.source) return null;
  const fetched = (await fetchJsonMany<RolloutDocument>(context.source.s3, context.source.bucket, [context.source.rolloutKey])).get(context.source.rolloutKey);
  return fetched?.ok ? fetched.value : null;
}
