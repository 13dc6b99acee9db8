import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startS3Server, listKeys, getText } from '../helpers/s3.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import { createFleet, SOURCE_BUCKET, SOURCE_PREFIX, type TestFleet } from '../helpers/fleet.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';

jest.setTimeout(120_000);

/**
 * The operator commands of SPEC §9 against a real S3 API, no hosts needed: bad input is refused with
 * the flag named and nothing written, an rsync source is refused, and the document moves only by
 * the transitions each command allows.
 */
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let fleet: TestFleet;

const keysNow = () => listKeys(s3.client, SOURCE_BUCKET, '');
const rolloutDoc = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/rollout.json`)) as RolloutDocument;
const current = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/current.json`)) as { release_id: string; serial: number; rollout_id?: string };
const run = (...args: string[]) => fleet.publisher.run(args);
const start = (...flags: string[]) => run('rollout', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, ...flags);
/** The command line systemd/agent-rollout.service runs, with its credential directory and environment file filled in. */
async function shippedTick() {
  const unit = readFileSync(new URL('../../systemd/agent-rollout.service', import.meta.url), 'utf8');
  const credentials = mkdtempSync(join(tmpdir(), 'agent-credentials-'));
  copyFileSync(fleet.publisher.key, join(credentials, 'release.key'));
  const line = /^ExecStart=(.+)$/m.exec(unit)![1]!.replaceAll('%d', credentials).replace('$AGENT_ROLLOUT_ARGS', `--config ${fleet.publisher.configPath}`);
  const [binary, ...args] = line.split(' ');
  expect(binary).toBe('/usr/local/bin/agent');
  try {
    return await execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: s3.env });
  } finally {
    rmSync(credentials, { recursive: true, force: true });
  }
}
const bump = (motd: string) => {
  const site = join(fleet.publisher.tree, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/welcome v[^\\]*/, motd));
};

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  fleet = await createFleet({ size: 0, s3, tree: 'sandbox' });
}, 60_000);

afterAll(async () => {
  fleet?.remove();
  await s3?.remove();
});

describe('agent rollout: refusals before anything is written', () => {
  it('needs something published first', async () => {
    const result = await start();
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/nothing is published at s3:\/\/releases\/puppet yet/);
    expect(await keysNow()).toEqual([]);
  });

  it.each([
    [['--steps', '0,50,100'], /--steps: step 1 is 0/],
    [['--steps', '10,150'], /--steps: step 2 is 150/],
    [['--steps', '50,10,100'], /--steps: steps must increase: 50 then 10/],
    [['--steps', '10,50'], /--steps: the last step is 50, not 100/],
    [['--steps', 'ten'], /--steps: expected percents/],
    [['--bake', 'soon'], /--bake: expected a duration/],
    [['--max-failed', '120%'], /--max-failed: expected a number of hosts .* up to 100%/],
    [['--on-failure', 'retry'], /--on-failure: expected abort or pause/],
  ])('%j is a usage error naming the flag (exit 64), nothing written', async (flags, message) => {
    expect((await run('publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target)).exitCode).toBe(0);
    const before = await keysNow();
    const result = await start(...(flags as string[]));
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toMatch(message as RegExp);
    expect(await keysNow()).toEqual(before);
  });

  it('an rsync source is refused with exit 1, pointing to the S3 source', async () => {
    const before = await keysNow();
    const result = await run('rollout', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', 'agent@manifests:/');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/a rollout needs the S3 source/);
    expect(await keysNow()).toEqual(before);
  });

  it('a RELEASE_ID that is not in the bucket is refused with exit 1', async () => {
    const result = await run('rollout', 'start', 'e'.repeat(64), '--key', fleet.publisher.key);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/release eeeeeeeeeeee is not in s3:\/\/releases\/puppet\/releases\//);
  });

  it('a key that is not the publisher\'s is refused with exit 1', async () => {
    const other = join(fleet.publisher.tree, '..', 'other');
    await execa(process.execPath, [AGENT_BIN, 'keygen', '--out', other]);
    const before = await keysNow();
    const result = await run('rollout', 'start', fleet.publisher.tree, '--key', `${other}.key`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/--key is not the publisher's key/);
    expect(await keysNow()).toEqual(before);
  });
});

describe('agent rollout: the document through its transitions', () => {
  let previous: { release_id: string; serial: number };

  it('start uploads the candidate, writes the signed document and leaves current.json on previous', async () => {
    previous = await current();
    bump('welcome v2');
    const result = await start('--steps', '10,100', '--bake', '5m', '--max-failed', '10%');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^rollout r-\d{8}T\d{6}Z-[0-9a-f]{6} started$/m);
    const doc = await rolloutDoc();
    expect(doc).toMatchObject({ state: 'running', step: 0, steps: [10, 100], bake: '5m', max_failed: '10%', previous: { release_id: previous.release_id } });
    expect(doc.candidate.serial).toBeGreaterThan(previous.serial);
    expect(await current()).toEqual({ ...previous, rollout_id: doc.rollout_id });
    expect(await keysNow()).toContain(`${SOURCE_PREFIX}/releases/${doc.candidate.release_id}.json`);
    expect(await keysNow()).toContain(`${SOURCE_PREFIX}/rollout.sig`);
  });

  it('a second start while one is running is refused, naming it', async () => {
    const doc = await rolloutDoc();
    bump('welcome v9');
    const result = await start();
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`rollout ${doc.rollout_id} is running`);
    expect((await rolloutDoc()).serial).toBe(doc.serial);
  });

  it('a plain publish is refused while the rollout is open', async () => {
    const result = await run('publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/rollout r-.* is running .*: a publish now would move every host at once/);
  });

  it('pause, resume and the transitions they do not allow', async () => {
    expect((await run('rollout', 'resume', '--key', fleet.publisher.key)).exitCode).toBe(1);
    const paused = await run('rollout', 'pause', '--key', fleet.publisher.key);
    expect(paused.exitCode).toBe(0);
    expect((await rolloutDoc()).state).toBe('paused');
    expect((await run('rollout', 'tick', '--key', fleet.publisher.key)).stdout).toMatch(/^none: .* is paused/);
    expect((await run('rollout', 'resume', '--key', fleet.publisher.key)).exitCode).toBe(0);
    expect((await rolloutDoc()).state).toBe('running');
  });

  it('status --json shows the document and one row per step', async () => {
    const result = await run('rollout', 'status', '--json');
    expect(result.exitCode).toBe(0);
    const status = JSON.parse(result.stdout) as { schema: string; rollout: RolloutDocument; steps: unknown[] };
    expect(status.schema).toBe('agent.rollout-status/v1');
    expect(status.steps).toHaveLength(2);
    const text = await run('rollout', 'status');
    expect(text.stdout).toMatch(/STEP +EXPOSES +HOSTS +ON RELEASE +SUCCEEDED +FAILED +PENDING/);
  });

  it('tick with no host exposed advances step by step, then completes and moves current.json', async () => {
    const doc = await rolloutDoc();
    expect((await shippedTick()).stdout).toMatch(/^advance: advanced to step 2\/2/);
    expect((await run('rollout', 'tick', '--key', fleet.publisher.key)).stdout).toMatch(/^complete: /);
    expect((await rolloutDoc()).state).toBe('completed');
    expect(await current()).toEqual(doc.candidate);
    expect((await run('rollout', 'abort', '--key', fleet.publisher.key)).exitCode).toBe(1);
  });

  it('abort sends the rollout back to previous; tick refuses a tampered document', async () => {
    bump('welcome v3');
    expect((await start('--steps', '100')).exitCode).toBe(0);
    expect((await run('rollout', 'abort', '--key', fleet.publisher.key)).exitCode).toBe(0);
    const doc = await rolloutDoc();
    expect(doc.state).toBe('aborted');
    expect(doc.history.at(-1)).toMatchObject({ action: 'aborted' });
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${SOURCE_PREFIX}/rollout.json`, Body: JSON.stringify({ ...doc, state: 'running' }) }));
    const tick = await run('rollout', 'tick', '--key', fleet.publisher.key);
    expect(tick.exitCode).toBe(1);
    expect(tick.stderr).toMatch(/signature does not verify/);
  });
});
