import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { existingConfigPath } from '../config/path.js';

/**
 * The config file a command uses (`--config`, `$AGENT_CONFIG`, the default), loaded and validated.
 * A file that is not there throws AgentError('no_config'), saying where the agent looked.
 */
export function configFor(values: Record<string, unknown>, env: NodeJS.ProcessEnv): { path: string; config: Readonly<Config> } {
  const path = existingConfigPath(values, env);
  return { path, config: loadConfig(path) };
}
