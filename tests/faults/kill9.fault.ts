import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { listKeys, type S3Server } from '../helpers/s3.js';
import type { S3Proxy } from '../helpers/s3-proxy.js';
import { AGENT_BIN, type AgentHost } from '../helpers/agent-host.js';
import { indexTree } from '../../agent/release/tree-index.js';
import { STAGING_PREFIX } from '../../agent/release/prune.js';
import { capture, processCmdlines, record, runCaptured, startFaultRig, waitFor, type FaultRig } from './harness.js';

/**
 * kill -9 of `agent run-now` at every stage: poll (the dry run), stage (rsync mid-transfer), verify
 * (the staged tree being hashed), activate (the release kept, the link being swung), mid-Puppet, and
 * mid-upload of the report (S3 held by a proxy that never answers). Each stage's moment is found by
 * watching the run from outside (its rsync children, its staging dir, its progress lines), with random
 * jitter, and the stage it really was in is read at the kill. After each kill: the active release must
 * be a complete tree (its content hashes to its name), the next run must not wait on a lock, no Puppet
 * of the killed run may live beside it, and every report the killed run had spooled must reach S3.
 */
const SCENARIO = 'kill -9 at every stage';
const STAGES = ['poll', 'stage', 'verify', 'activate', 'apply', 'report'] as const;
const ROUNDS = Number(process.env.FAULTS_KILL_ROUNDS ?? STAGES.length * 3);
type Stage = (typeof STAGES)[number];

let rig: FaultRig;
let s3: S3Server;
let proxy: S3Proxy;
let host: AgentHost;
let dist: string;

beforeAll(async () => {
  rig = await startFaultRig('kill9', { proxy: true });
  ({ s3, host, dist } = rig);
  proxy = rig.proxy!;
  // enough files that staging and verifying take a moment worth hitting
  for (let dir = 0; dir < 15; dir++) {
    mkdirSync(join(dist, 'data', String(dir)), { recursive: true });
    for (let file = 0; file < 100; file++) writeFileSync(join(dist, 'data', String(dir), `${file}.txt`), `data ${dir}/${file}\n`.repeat(20));
  }
  expect((await runCaptured('kill9', host, ['run-now'])).exitCode).toBe(2);
}, 120_000);

afterAll(() => rig?.stop());

describe(SCENARIO, () => {
  it(`${ROUNDS} rounds: no half-applied tree, no blocked run, no orphaned Puppet, no lost report`, async () => {
    const counts = { half_applied_trees: 0, blocked_runs: 0, orphaned_puppets: 0, lost_reports: 0 };
    const stagesHit: string[] = [];
    let failures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const target: Stage = STAGES[round % STAGES.length]!;
      changeTree(round);
      stagesHit.push(await killDuring(target));
      const spooled = spooledRunIds();

      const active = activeDir();
      if (active && (await indexTree(active)).releaseId !== basename(active)) counts.half_applied_trees++;

      proxy.hang(false);
      const next = await runCaptured('kill9', host, ['run-now', '--no-wait']);
      if (next.exitCode === 75) counts.blocked_runs++;
      if (![0, 2].includes(next.exitCode)) failures++;
      counts.orphaned_puppets += puppetsOf(host).length;
      const delivered = await listKeys(s3.client, 'fleet-reports', 'reports/');
      counts.lost_reports += spooled.filter((runId) => !delivered.some((key) => key.endsWith(`-${runId}.json`))).length;
    }
    const hits = STAGES.map((stage) => `${stage} ${stagesHit.filter((hit) => hit === stage).length}`).join(', ');
    record({ scenario: SCENARIO, runs: ROUNDS * 2, failures, losses: counts, note: `killed during: ${hits}` });
    expect(counts).toEqual({ half_applied_trees: 0, blocked_runs: 0, orphaned_puppets: 0, lost_reports: 0 });
    expect(failures).toBe(0);
  }, 600_000);
});

/** A real change each round: Puppet has something to do and rsync several megabytes to move. */
function changeTree(round: number): void {
  const site = join(dist, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/welcome v\d+/, `welcome v${round + 2}`));
  writeFileSync(join(dist, 'data', String(round % 15), '0.txt'), `changed in round ${round}\n`);
  writeFileSync(join(dist, 'data', 'big.bin'), randomBytes(8 * 1024 * 1024));
}

/**
 * Start a run and kill -9 it in `target`, found from outside: its dry-run rsync (poll), its staging
 * rsync (stage), its staging dir with no rsync left (verify), its "stage" line before "activate"
 * (activate), a random moment after Puppet started (apply), or with S3 answering nothing, a random
 * moment of the upload (report). Returns the stage the run was really in when it was killed.
 */
async function killDuring(target: Stage): Promise<Stage> {
  if (target === 'report') proxy.hang(true);
  const run = execa(process.execPath, [AGENT_BIN, 'run-now', '--config', host.configPath], { env: host.env, reject: false, buffer: false });
  let stderr = '';
  run.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const jitter = (maxMs: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
  const reached = (stage: Stage) => STAGES.indexOf(currentStage(stderr)) >= STAGES.indexOf(stage);
  await waitFor(() => (currentStage(stderr) === target || reached(target) ? true : undefined), 60_000, 2).catch(() => undefined);
  if (target === 'stage') await jitter(30);
  if (target === 'activate') await jitter(3);
  if (target === 'apply') await jitter(1200);
  if (target === 'report') await jitter(600);
  const stage = currentStage(stderr);
  run.kill('SIGKILL');
  await run;
  capture('kill9', { stdout: '', stderr });
  return stage;
}

/** The stage the run is in now, read from its rsync children, its staging dir and its progress lines. */
function currentStage(stderr: string): Stage {
  if (/^agent: apply {4}(unchanged|changed|failed|UNCHANGED|CHANGED|FAILED|TIMEOUT)/im.test(stderr)) return 'report';
  if (/^agent: apply /m.test(stderr)) return 'apply';
  if (/^agent: (stage|activate) /m.test(stderr)) return 'activate';
  const rsyncs = processCmdlines().map(({ cmdline }) => cmdline).filter((cmdline) => cmdline.startsWith('rsync') && cmdline.includes(host.stateDir));
  if (rsyncs.some((cmdline) => cmdline.includes('--dry-run'))) return 'poll';
  if (rsyncs.some((cmdline) => cmdline.includes(STAGING_PREFIX))) return 'stage';
  const releases = join(host.stateDir, 'releases');
  if (existsSync(releases) && readdirSync(releases).some((name) => name.startsWith(STAGING_PREFIX))) return 'verify';
  return 'poll';
}

function activeDir(): string | undefined {
  try {
    return join(host.stateDir, 'releases', basename(readlinkSync(host.stageDir)));
  } catch {
    return undefined;
  }
}

function spooledRunIds(): string[] {
  const dir = join(host.stateDir, 'spool');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.replace(/\.json$/, '').split('-').slice(1).join('-'));
}

/** Puppet processes whose vardir is this host's: none may outlive the run that started them. */
function puppetsOf(agentHost: AgentHost): number[] {
  const marker = join(agentHost.stateDir, 'puppet');
  return processCmdlines().filter(({ cmdline }) => cmdline.includes(marker)).map(({ pid }) => pid);
}
