import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { missingConfigError, resolveConfigPath } from '../config/path.js';

/**
 * The config file a command uses (`--config`, `$AGENT_CONFIG`, the default), loaded and validated.
 * A file that is not there throws AgentError('no_config'), saying where the agent looked.
 */
export function configFor(values: Record<string, unknown>, env: NodeJS.ProcessEnv): { path: string; config: Readonly<Config> } {
  const flag = typeof values.config === 'string' ? values.config : undefined;
  const path = resolveConfigPath(flag, env);
  if (!existsSync(path)) throw missingConfigError(flag, env);
  return { path, config: loadConfig(path) };
}
