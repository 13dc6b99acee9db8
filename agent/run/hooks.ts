import type { Deps } from '../deps.js';
import { describeError } from '../errors.js';

/**
 * Operators' own programs, run at fixed points (SPEC §3 hooks) with the AGENT_* environment. A hook
 * that fails or hangs is logged and ended at `timeoutMs`; it never fails the run or the daemon.
 */
export async function runHooks(
  deps: Pick<Deps, 'exec' | 'log'>,
  name: 'after_register' | 'after_run',
  hooks: readonly (readonly string[])[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  for (const argv of hooks) {
    const [file, ...args] = argv;
    if (!file) continue;
    try {
      const result = await deps.exec({ file, args, env, timeoutMs, killGraceMs: 2000 });
      const fields = { hook: name, argv, exit_code: result.exitCode, duration_ms: result.durationMs };
      if (result.timedOut) deps.log.warn({ ...fields, timeout_ms: timeoutMs }, 'hook timed out and was stopped');
      else if (result.spawnError) deps.log.warn({ ...fields, err: result.spawnError }, 'hook could not be started');
      else if (result.exitCode !== 0) deps.log.warn({ ...fields, stderr: result.stderr.slice(-500) }, 'hook failed');
      else deps.log.info(fields, 'hook ran');
    } catch (error) {
      deps.log.warn({ hook: name, argv, err: describeError(error) }, 'hook could not be run');
    }
  }
}

export interface HookFacts {
  instanceId: string;
  privateIp: string | null;
  roles: readonly string[];
  runId?: string;
  result?: string;
  exitCode?: number;
  reportPath?: string | null;
}

/** SPEC §3: AGENT_INSTANCE_ID, AGENT_PRIVATE_IP, AGENT_ROLES, AGENT_RUN_ID, AGENT_RESULT, AGENT_EXIT_CODE, AGENT_REPORT. */
export function hookEnvironment(facts: HookFacts): Record<string, string> {
  return {
    AGENT_INSTANCE_ID: facts.instanceId,
    AGENT_PRIVATE_IP: facts.privateIp ?? '',
    AGENT_ROLES: facts.roles.join(','),
    AGENT_RUN_ID: facts.runId ?? '',
    AGENT_RESULT: facts.result ?? '',
    AGENT_EXIT_CODE: facts.exitCode === undefined ? '' : String(facts.exitCode),
    AGENT_REPORT: facts.reportPath ?? '',
  };
}
