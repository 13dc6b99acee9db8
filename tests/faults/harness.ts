import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLocalSourceHost, type AgentHost, type AgentRun } from '../helpers/agent-host.js';
import { startS3Server, type S3Server } from '../helpers/s3.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';

/**
 * What every fault scenario shares: one summary row per scenario (written to $FAULTS_RESULTS, printed
 * as a table by summary.ts after the suite), and a capture of everything the agent printed or reported
 * (under $FAULTS_CAPTURE), which summary.ts greps for the suite's secrets. Run alone under jest, both
 * are skipped: the assertions in each test are what fails.
 */
export interface ScenarioRow {
  scenario: string;
  runs: number;
  failures: number;
  /** Counts that must be 0: half-applied trees, blocked runs, lost reports, overlaps, ... */
  losses: Record<string, number>;
  note?: string;
}

export function record(row: ScenarioRow): void {
  const file = process.env.FAULTS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/**
 * The AWS secret key every fault scenario's agent runs with: distinctive, so a leak anywhere in the
 * captured output is found by a plain search (s3rver checks no signature, so any value works).
 */
export const FAULT_AWS_SECRET = process.env.FAULTS_AWS_SECRET ?? `faultsecret${randomBytes(12).toString('hex')}`;

export function faultEnv(env: Record<string, string>): Record<string, string> {
  return { ...env, AWS_SECRET_ACCESS_KEY: FAULT_AWS_SECRET };
}

export interface FaultRig {
  s3: S3Server;
  /** The fault proxy the host's reports go through, with `proxy: true`. */
  proxy: S3Proxy | undefined;
  host: AgentHost;
  /** The host's manifest source: a local tree rsync copies from. */
  dist: string;
  /** Keep the host's reports and status for the secrets check, then remove everything. */
  stop(): Promise<void>;
}

/**
 * What most scenarios run on: the loopback S3 server (behind a fault proxy with `proxy`), and an agent
 * host on a local manifest source, reporting to it with the suite's secret key in its environment.
 */
export async function startFaultRig(scenario: string, options: { proxy?: boolean; config?: Record<string, unknown> } = {}): Promise<FaultRig> {
  const s3 = await startS3Server();
  const proxy = options.proxy ? await startS3Proxy({ port: s3.port }) : undefined;
  const { host, dist, remove } = createLocalSourceHost({ endpoint: proxy?.endpoint ?? s3.endpoint, env: faultEnv(s3.env) }, options.config);
  return {
    s3,
    proxy,
    host,
    dist,
    async stop() {
      captureHost(scenario, host);
      remove();
      await proxy?.stop();
      await s3.remove();
    },
  };
}

/** Keep what a run printed, for the secrets check. */
export function capture(scenario: string, run: Pick<AgentRun, 'stdout' | 'stderr'>): void {
  const dir = process.env.FAULTS_CAPTURE;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${scenario}.log`), `${run.stdout}\n${run.stderr}\n`);
}

/** Keep a host's reports, status and metrics before it is removed, for the secrets check. */
export function captureHost(scenario: string, host: Pick<AgentHost, 'stateDir'>): void {
  const dir = process.env.FAULTS_CAPTURE;
  if (!dir || !existsSync(host.stateDir)) return;
  const target = join(dir, `${scenario}-${randomBytes(3).toString('hex')}`);
  for (const name of ['reports', 'spool', 'status.json']) {
    const from = join(host.stateDir, name);
    if (existsSync(from)) cpSync(from, join(target, name), { recursive: true });
  }
}

/** Record an SSH private key's material (its base64 body) as a secret the summary must never find. */
export function registerSecretKey(keyFile: string): void {
  const dir = process.env.FAULTS_CAPTURE;
  if (!dir) return;
  const body = readFileSync(keyFile, 'utf8').split('\n').filter((line) => line && !line.startsWith('-----'));
  mkdirSync(join(dir, '.secrets'), { recursive: true });
  appendFileSync(join(dir, '.secrets', 'lines'), `${body.join('\n')}\n`);
}

export function listCapture(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Run the agent and keep its output for the secrets check. */
export async function runCaptured(scenario: string, host: AgentHost, args: string[], env?: Record<string, string>): Promise<AgentRun> {
  const run = await host.run(args, env ? { env } : {});
  capture(scenario, run);
  return run;
}

/** Every process's pid and command line (arguments joined by spaces), read from /proc. */
export function processCmdlines(): Array<{ pid: number; cmdline: string }> {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [{ pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() }];
      } catch {
        return []; // gone in between
      }
    });
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
