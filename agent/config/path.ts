export const DEFAULT_CONFIG_PATH = '/etc/agent/agent.yaml';

/** Which config file a command uses: `--config`, then `$AGENT_CONFIG`, then the default (SPEC §2). */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.AGENT_CONFIG ?? DEFAULT_CONFIG_PATH;
}
