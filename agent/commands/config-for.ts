import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { resolveConfigPath } from '../config/path.js';

/** The config file a command uses (`--config`, `$AGENT_CONFIG`, the default), loaded and validated. */
export function configFor(values: Record<string, unknown>, env: NodeJS.ProcessEnv): { path: string; config: Readonly<Config> } {
  const path = resolveConfigPath(typeof values.config === 'string' ? values.config : undefined, env);
  return { path, config: loadConfig(path) };
}
