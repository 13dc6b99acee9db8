import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../errors.js';

export const DEFAULT_CONFIG_PATH = '/etc/agent/agent.yaml';

/** Set by the daemon for its runs: where they keep the config they validated (config/snapshot.ts). */
export const CONFIG_SNAPSHOT_ENV = 'AGENT_CONFIG_SNAPSHOT';

/** Which config file a command uses: `--config`, then `$AGENT_CONFIG`, then the default (SPEC §2). */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.AGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** The config file a command uses, which must exist; else the error that says where the agent looked. */
export function existingConfigPath(values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  const flag = typeof values.config === 'string' ? values.config : undefined;
  const path = resolveConfigPath(flag, env);
  if (!existsSync(path)) throw missingConfigError(flag, env);
  return path;
}

/**
 * The error for a config file that is not there: where the agent looked, in order, and where to start
 * from. A newcomer's first command usually lands here, so it says what to do next.
 */
export function missingConfigError(flag: string | undefined, env: NodeJS.ProcessEnv, example = exampleConfigPath()): AgentError {
  const path = resolveConfigPath(flag, env);
  const tried = [
    flag === undefined ? '--config PATH (not given)' : `--config ${flag} (no such file)`,
    env.AGENT_CONFIG === undefined ? '$AGENT_CONFIG (not set)' : `$AGENT_CONFIG=${env.AGENT_CONFIG}${flag === undefined ? ' (no such file)' : ' (not used: --config wins)'}`,
    `${DEFAULT_CONFIG_PATH}${flag === undefined && env.AGENT_CONFIG === undefined ? ' (no such file)' : ' (not used)'}`,
  ];
  const start = example ? `start from the example ${example} (every key and its default: README "Configuration")` : 'every key and its default: README "Configuration"';
  return new AgentError(
    'no_config',
    `no config file: ${path} does not exist\n  looked at, in order: ${tried.join(', ')}\n  ${start}, then check it with \`agent config check --config PATH\``,
  );
}

/** ami/agent.yaml.template beside the code (the repository, or /opt/agent on an image), if it is there. */
export function exampleConfigPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const candidate = join(dir, 'ami', 'agent.yaml.template');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
