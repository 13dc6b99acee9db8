import { existsSync } from 'node:fs';
import type { ParsedCommand } from '../cli.js';
import type { Config } from '../config/schema.js';
import type { S3Location } from '../adapters/s3.js';
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
