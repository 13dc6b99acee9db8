import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';

jest.setTimeout(300_000);
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startS3Server, getText } from '../helpers/s3.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import { createFleet, registerAll, SOURCE_BUCKET, SOURCE_PREFIX, type TestFleet } from '../helpers/fleet.js';
import { trustRollout } from '../../agent/rollout/trust.js';
import { parsePublicKey } from '../../agent/release/signature.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';

/**
 * Rollouts under faults (issue #13): a controller killed mid-decision, S3 down during a step, a
 * host rebooted (its state wiped) mid-rollout, and hosts whose clocks are 5 minutes off the
 * controller's. Real puppet, real S3 API on loopback, the built binary.
 */
const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let fleet: TestFleet;

const rolloutBytes = () => getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/rollout.json`);
const rolloutDoc = async () => JSON.parse(await rolloutBytes()) as RolloutDocument;
const current = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/current.json`)) as { release_id: string };
const tick = () => fleet.publisher.run(['rollout', 'tick', '--key', fleet.publisher.key]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rollout document verifies with the publisher's key, exactly as a host checks it. */
async function verifiedDoc(): Promise<RolloutDocument> {
  const key = { name: 'publisher', key: parsePublicKey(readFileSync(fleet.publisher.key.replace(/\.key$/, '.pub'), 'utf8'), 'pub') };
  const signature = await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/rollout.sig`);
  return trustRollout({ bytes: Buffer.from(await rolloutBytes()), signature, where: 'rollout.json' }, [key], null);
}

async function startRollout(motd: string, ...flags: string[]): Promise<RolloutDocument> {
  const site = join(fleet.publisher.tree, 'manifests/site.pp');
  const text = readFileSync(site, 'utf8').replace(/welcome v[^\\]*/, motd);
  writeFileSync(site, text);
  const started = await fleet.publisher.run(['rollout', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target, ...flags]);
  expect(started.exitCode).toBe(0);
  return rolloutDoc();
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  fleet = await createFleet({ size: 6, s3, tree: 'sandbox' });
  await registerAll(fleet);
  expect((await fleet.publisher.run(['publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target])).exitCode).toBe(0);
  await fleet.runAll();
}, 180_000);

afterAll(async () => {
  fleet?.remove();
  await s3?.remove();
});

describe('rollout faults', () => {
  it('a controller killed at random moments of its decisions never skips a step nor leaves a document hosts refuse', async () => {
    await startRollout('welcome v2', '--steps', '10,30,60,100', '--bake', '0s');
    let kills = 0;
    for (let round = 0; round < 16 && (await rolloutDoc()).state === 'running'; round++) {
      await fleet.runAll();
      const child = spawn(process.execPath, [AGENT_BIN, 'rollout', 'tick', '--key', fleet.publisher.key, '--config', fleet.publisher.configPath], { env: { ...process.env, ...s3.env }, stdio: 'ignore' });
      await sleep(200 + Math.floor(Math.random() * 900));
      if (child.exitCode === null && child.kill('SIGKILL')) kills++;
      await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
      const doc = await verifiedDoc(); // never a half-written pair
      const steps = doc.history.filter((entry) => entry.action === 'advanced').map((entry) => entry.step);
      expect(steps).toEqual(steps.map((_, index) => index + 1));
      if (round % 2 === 1) expect((await tick()).exitCode).toBe(0);
    }
    while ((await rolloutDoc()).state === 'running') {
      await fleet.runAll();
      expect((await tick()).exitCode).toBe(0);
    }
    const final = await verifiedDoc();
    console.log(`controller kills: ${kills}; history: ${final.history.map((entry) => `${entry.action}@${entry.step}`).join(' ')}`);
    expect(final.state).toBe('completed');
    expect(final.history.filter((entry) => entry.action === 'advanced').map((entry) => entry.step)).toEqual([1, 2, 3]);
    expect((await current()).release_id).toBe(final.candidate.release_id);
  });

  it('S3 down during a step: hosts keep their release, the tick fails writing nothing, and the rollout goes on afterwards', async () => {
    const doc = await startRollout('welcome v3', '--steps', '50,100', '--bake', '0s');
    await fleet.runAll();
    await s3.stop();
    try {
      const reports = await fleet.runAll();
      for (const report of reports.values()) expect(report.source.status).toBe('unreachable');
      const failed = await tick();
      expect(failed.exitCode).toBe(1);
      expect(failed.stderr).toMatch(/agent: /);
    } finally {
      await s3.restart();
    }
    expect((await rolloutDoc()).serial).toBe(doc.serial);
    for (let round = 0; round < 4 && (await rolloutDoc()).state === 'running'; round++) {
      await fleet.runAll();
      expect((await tick()).exitCode).toBe(0);
    }
    expect((await rolloutDoc()).state).toBe('completed');
  });

  it('a host rebooted with its state wiped keeps its cohort', async () => {
    await startRollout('welcome v4', '--steps', '50,100', '--bake', '1h');
    const before = await fleet.runAll();
    for (const member of fleet.hosts) {
      rmSync(member.host.stateDir, { recursive: true, force: true });
      rmSync(member.host.stageDir, { force: true });
    }
    const after = await fleet.runAll();
    for (const member of fleet.hosts) {
      expect(after.get(member.id)?.rollout?.exposed).toBe(before.get(member.id)?.rollout?.exposed);
      expect(after.get(member.id)?.apply.release_id).toBe(before.get(member.id)?.apply.release_id);
    }
    expect((await fleet.publisher.run(['rollout', 'abort', '--key', fleet.publisher.key])).exitCode).toBe(0);
    await fleet.runAll();
  });

  it('hosts whose clocks are 5 minutes ahead or behind neither shorten nor stretch the bake', async () => {
    // a fleet of its own, skewed from its first run on (a clock that jumps back is another fault)
    const skewS3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
    const skewFleet = await createFleet({ size: 4, s3: skewS3, tree: 'sandbox' });
    const skewed = (index: number) => ({ LD_PRELOAD: FAKETIME, FAKETIME: index % 2 === 0 ? '+5m' : '-5m' });
    const env = { env: (member: { id: string }) => skewed(skewFleet.hosts.findIndex((host) => host.id === member.id)) };
    const skewTick = () => skewFleet.publisher.run(['rollout', 'tick', '--key', skewFleet.publisher.key]);
    try {
      await registerAll(skewFleet);
      expect((await skewFleet.publisher.run(['publish', skewFleet.publisher.tree, '--key', skewFleet.publisher.key, '--to', skewFleet.publisher.target])).exitCode).toBe(0);
      await skewFleet.runAll(['--trigger', 'schedule'], env);
      const site = join(skewFleet.publisher.tree, 'manifests/site.pp');
      writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome v5'));
      // every host exposed at the only step, so the bake always applies
      const beforeStart = Date.now();
      const started = await skewFleet.publisher.run(['rollout', 'start', skewFleet.publisher.tree, '--key', skewFleet.publisher.key, '--to', skewFleet.publisher.target, '--steps', '100', '--bake', '15s']);
      expect(started.exitCode).toBe(0);
      const startedAt = Date.now();
      const reports = await skewFleet.runAll(['--trigger', 'schedule'], env);
      const stamps = [...reports.values()].map((report) => Date.parse(report.finished_at) - Date.now());
      expect(Math.max(...stamps)).toBeGreaterThan(4 * 60_000);
      expect(Math.min(...stamps)).toBeLessThan(-4 * 60_000);
      // a slow machine may reach this tick after the bake: then it completes, never earlier
      const early = await skewTick();
      if (Date.now() < beforeStart + 15_000) expect(early.stdout).toMatch(/baking, \d+s left/);
      if (!/^complete: /.test(early.stdout)) {
        await sleep(Math.max(0, startedAt + 15_500 - Date.now()));
        expect((await skewTick()).stdout).toMatch(/^complete: /);
      }
      const doc = JSON.parse(await getText(skewS3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/rollout.json`)) as RolloutDocument;
      expect(doc.state).toBe('completed');
      expect(Date.parse(doc.updated_at) - Date.parse(doc.step_started_at)).toBeGreaterThanOrEqual(15_000);
    } finally {
      skewFleet.remove();
      await skewS3.remove();
    }
  });
});
