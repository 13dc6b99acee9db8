import { existsSync } from 'node:fs';
import type { ParsedCommand } from '../cli.js';
import type { Config } from '../config/schema.js';
import type { S3Location } from '../adapters/s3.js';
import { AgentError } from '../errors.js';
import { createS3Client } from '../adapters/s3.js';
import { normalizePrefix } from '../report/keys.js';
import type { RolloutStore } from '../rollout/store.js';
import { loadConfig } from '../config/load.js';
import { missingConfigError, resolveConfigPath } from '../config/path.js';

/**
 * Operator commands (`fleet`, `publish`) run on a workstation or the manifest server (SPEC §2): the
 * config file is used when there is one, and flags override it.
 */
export function operatorConfig(values: ParsedCommand['values'], env: NodeJS.ProcessEnv): { config: Config | null; path: string } {
  const flag = typeof values.config === 'string' ? values.config : undefined;
  const path = resolveConfigPath(flag, env);
  // a config named with --config must be there; otherwise one is used when it exists (a workstation may have none)
  if (flag !== undefined && !existsSync(path)) throw missingConfigError(flag, env);
  const config = flag !== undefined || existsSync(path) ? loadConfig(path) : null;
  return { config, path };
}

/** Region, endpoint and path style: flags first, then the config section (report: or source:), then defaults. */
export function operatorLocation(values: ParsedCommand['values'], section: Partial<S3Location> | undefined, env: NodeJS.ProcessEnv): S3Location {
  return {
    region: (values.region as string | undefined) ?? section?.region ?? env.AWS_REGION ?? 'us-east-1',
    endpoint: (values.endpoint as string | undefined) ?? section?.endpoint ?? '',
    force_path_style: values['path-style'] === true || (section?.force_path_style ?? false),
  };
}

/**
 * What a publisher command over the S3 source (rollout, plan) reads and writes: the source from --to or
 * the config's S3 source, the report bucket from --bucket or the config's report:. `rsyncRefusal` says
 * why the command cannot work on an rsync source (SPEC §9: exit 1, nothing written).
 */
export function publisherStore(values: ParsedCommand['values'], env: NodeJS.ProcessEnv, rsyncRefusal: string): { config: Config | null; store: RolloutStore } {
  const { config, path } = operatorConfig(values, env);
  let source: { bucket: string; prefix: string };
  if (typeof values.to === 'string') {
    if (!values.to.startsWith('s3://')) throw new AgentError('internal', `--to ${values.to}: ${rsyncRefusal}`);
    source = parseS3Url(values.to);
  } else if (config?.source.type === 's3' && config.source.bucket) {
    source = { bucket: config.source.bucket, prefix: config.source.prefix };
  } else if (config) {
    throw new AgentError('internal', `${path}: source.type is rsync: ${rsyncRefusal}`);
  } else {
    throw new AgentError('usage', `no S3 source: give --to s3://BUCKET/PREFIX or a config file with an S3 source (looked for ${path})`);
  }
  const sourceSection = config?.source.type === 's3' ? config.source : undefined;
  const store: RolloutStore = {
    s3: createS3Client(operatorLocation(values, sourceSection, env), env),
    bucket: source.bucket,
    prefix: normalizePrefix(source.prefix),
    reports: {
      s3: createS3Client(operatorLocation(values, config?.report, env), env),
      bucket: (values.bucket as string | undefined) ?? config?.report.bucket ?? '',
      prefix: normalizePrefix(config?.report.prefix ?? ''),
    },
  };
  return { config, store };
}

/** `--to s3://BUCKET/PREFIX` → bucket and prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new AgentError('usage', `--to: expected s3://BUCKET/PREFIX, got "${url}"`);
  return { bucket: match[1]!, prefix: match[2]! };
}
