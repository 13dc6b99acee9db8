import type { Deps } from '../deps.js';
import type { FleetRow } from './fleet-view.js';

/**
 * `fleet run-now`: SSH into each instance and run `agent run-now --trigger fleet`, at most `parallel`
 * at a time. Host keys are pinned from each instance's own registry entry (SPEC §7), never learned.
 */
export interface FanOutOptions {
  user: string;
  port: number;
  key: string | null;
  noop: boolean;
  /** SPEC §10: `run-now --plan PLAN_ID` on each host instead of a run. */
  plan?: string | null;
  parallel: number;
  /** Stop starting new hosts after this many failures (like SSM's MaxErrors); null = never. */
  maxFailures: number | null;
  timeoutMs: number;
  knownHostsFile: string;
}

export interface HostOutcome {
  instance_id: string;
  address: string;
  /** run-now's exit code on the host; null when it never ran (unreachable, skipped). */
  exit_code: number | null;
  result: string;
  detail?: string;
}

/** ssh's own failures (connection, host key, auth) exit 255; anything else is the remote command's. */
const SSH_FAILED = 255;

/** known_hosts lines for the instances, from the keys each published about itself. */
export function knownHostsLines(rows: readonly FleetRow[], port: number): string {
  const host = (ip: string) => (port === 22 ? ip : `[${ip}]:${port}`);
  return rows.flatMap((row) => (row.private_ip ? row.ssh_host_keys.map((key) => `${host(row.private_ip!)} ${key}`) : [])).join('\n') + '\n';
}

export function remoteCommand(options: Pick<FanOutOptions, 'user' | 'noop' | 'plan'>): string[] {
  const command = ['agent', 'run-now', '--trigger', 'fleet', '--json', ...(options.noop ? ['--noop'] : []), ...(options.plan ? ['--plan', options.plan] : [])];
  return options.user === 'root' ? command : ['sudo', '-n', ...command];
}

export function sshArgs(address: string, options: FanOutOptions): string[] {
  return [
    '-p', String(options.port),
    ...(options.key ? ['-i', options.key, '-o', 'IdentitiesOnly=yes'] : []),
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${options.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    `${options.user}@${address}`,
    '--',
    ...remoteCommand(options),
  ];
}

export function isHostSuccess(outcome: HostOutcome): boolean {
  return outcome.exit_code === 0 || outcome.exit_code === 2;
}

export async function fanOut(
  deps: Pick<Deps, 'exec'>,
  rows: readonly FleetRow[],
  options: FanOutOptions,
  onProgress: (done: HostOutcome[], running: number, total: number) => void,
): Promise<HostOutcome[]> {
  const outcomes: HostOutcome[] = [];
  let next = 0;
  let running = 0;
  let failures = 0;
  const worker = async () => {
    while (next < rows.length) {
      if (options.maxFailures !== null && failures >= options.maxFailures) break;
      const row = rows[next++]!;
      running += 1;
      onProgress(outcomes, running, rows.length);
      const outcome = await runOnHost(deps, row, options);
      running -= 1;
      if (!isHostSuccess(outcome)) failures += 1;
      outcomes.push(outcome);
      onProgress(outcomes, running, rows.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, rows.length)) }, worker));
  const started = new Set(outcomes.map((outcome) => outcome.instance_id));
  for (const row of rows.filter((candidate) => !started.has(candidate.instance_id))) {
    outcomes.push({ instance_id: row.instance_id, address: row.private_ip ?? '-', exit_code: null, result: 'not started', detail: `--max-failures ${options.maxFailures} reached` });
  }
  return outcomes;
}

async function runOnHost(deps: Pick<Deps, 'exec'>, row: FleetRow, options: FanOutOptions): Promise<HostOutcome> {
  const address = row.private_ip;
  if (!address) return { instance_id: row.instance_id, address: '-', exit_code: null, result: 'unreachable', detail: 'no private IP in the registry' };
  if (row.ssh_host_keys.length === 0) return { instance_id: row.instance_id, address, exit_code: null, result: 'unreachable', detail: 'no SSH host key in the registry: refusing to trust an unknown key' };
  const ran = await deps.exec({ file: 'ssh', args: sshArgs(address, options), timeoutMs: options.timeoutMs, killGraceMs: 2000 });
  if (ran.timedOut) return { instance_id: row.instance_id, address, exit_code: null, result: 'timeout', detail: `no answer within ${Math.round(options.timeoutMs / 1000)}s` };
  if (ran.exitCode === SSH_FAILED || ran.exitCode === null) {
    const reason = ran.stderr.split('\n').map((line) => line.trim()).filter(Boolean).pop() ?? 'ssh failed';
    return { instance_id: row.instance_id, address, exit_code: null, result: 'unreachable', detail: reason };
  }
  let result = `exit ${ran.exitCode}`;
  try {
    result = (JSON.parse(ran.stdout) as { result: string }).result;
  } catch {
    // no report (locked: 75, disabled: 3, usage: 64): the exit code says it
    if (options.plan && ran.exitCode === 0 && ran.stderr.includes('nothing to answer')) result = 'not in plan'; // outside its roles or sample
  }
  // the agent's own closing words: `agent: ...` and what it indented under them
  const lastError = /(^|\n)(agent: [^\n]*(\n\s+[^\n]*)*)\s*$/.exec(ran.stderr)?.[2]?.replace(/\s*\n\s*/g, ' ');
  const detail = ran.exitCode === 75 ? 'another run holds the lock' : ran.exitCode === 3 ? 'disabled' : isHostSuccess({ exit_code: ran.exitCode } as HostOutcome) ? undefined : lastError;
  return { instance_id: row.instance_id, address, exit_code: ran.exitCode, result, ...(detail ? { detail } : {}) };
}
