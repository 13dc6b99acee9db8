import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server, listKeys, getText } from '../helpers/s3.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { AGENT_BIN, createAgentHost, type AgentHost } from '../helpers/agent-host.js';
import { copyTree, layFixtureTree } from '../helpers/fixture-trees.js';
import type { Report } from '../../agent/report/types.js';

/**
 * The S3 manifest source end to end: `agent publish --to s3://` into a loopback S3 server, agents
 * polling it through a proxy that counts every request and its answer.
 */
const SOURCE_BUCKET = 'releases';
const PREFIX = 'puppet';

type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let proxy: S3Proxy;
let host: AgentHost;
let tree: string;
let keys: string;
const releaseIds: string[] = [];
const serials: number[] = [];

const agent = (...args: string[]) => execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: s3.env });
const publish = () => agent('publish', tree, '--key', join(keys, 'release.key'), '--to', `s3://${SOURCE_BUCKET}/${PREFIX}`, '--endpoint', s3.endpoint);
const sourceRequests = () => proxy.requests.map((request) => `${request.method} ${request.path.replace(`/${SOURCE_BUCKET}/${PREFIX}/`, '')} ${request.status ?? request.outcome}`);
const objectGets = () => proxy.requests.filter((request) => request.method === 'GET' && request.path.includes('/objects/')).length;
const activeRelease = () => readlinkSync(host.stageDir).split('/').pop();
const current = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${PREFIX}/current.json`)) as { release_id: string; serial: number };

async function runNow(...args: string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  proxy.reset();
  const result = await host.run(['run-now', '--json', ...args]);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  } catch {
    throw new Error(`run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  proxy = await startS3Proxy({ port: s3.port });
  keys = mkdtempSync(join(tmpdir(), 'agent-keys-'));
  tree = layFixtureTree(mkdtempSync(join(tmpdir(), 'agent-tree-')), 'sandbox');
  // 28 files, each its own object: the sandbox tree's 8 and these 20
  for (let i = 0; i < 20; i++) writeFileSync(join(tree, `data-${i}.txt`), `payload ${i}\n`.repeat(100));
  expect((await agent('keygen', '--out', join(keys, 'release'))).exitCode).toBe(0);
  host = createAgentHost(
    {
      source: { type: 's3', bucket: SOURCE_BUCKET, prefix: PREFIX, endpoint: proxy.endpoint, force_path_style: true, timeout: '30s' },
      verify: { public_keys: [join(keys, 'release.pub')] },
      report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
    },
    s3.env,
  );
}, 60_000);

afterAll(async () => {
  host?.remove();
  rmSync(keys, { recursive: true, force: true });
  rmSync(tree, { recursive: true, force: true });
  await proxy?.stop();
  await s3?.remove();
});

describe('agent publish --to s3://', () => {
  it('uploads the objects, the manifest and its signature, then current.json', async () => {
    const published = await publish();
    expect(published.exitCode).toBe(0);
    expect(published.stdout).toMatch(/^objects: 28 uploaded \(\d+ bytes\), 0 already present$/m);
    expect(published.stderr).toMatch(/agent: upload {3}28\/28 objects/);
    const pointer = await current();
    // at least the publish time in seconds (a publisher that lost what it published must still go forward)
    expect(pointer.serial).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z') / 1000);
    expect(pointer.serial).toBeLessThanOrEqual(Date.now() / 1000);
    serials.push(pointer.serial);
    releaseIds.push(pointer.release_id);
    const keysThere = await listKeys(s3.client, SOURCE_BUCKET, `${PREFIX}/releases/`);
    expect(keysThere.sort()).toEqual([`${PREFIX}/releases/${pointer.release_id}.json`, `${PREFIX}/releases/${pointer.release_id}.sig`]);
  });

  it('publishing the same tree again uploads no object and keeps the release and serial', async () => {
    const again = await publish();
    expect(again.stdout).toMatch(/^objects: 0 uploaded \(0 bytes\), 28 already present$/m);
    expect(await current()).toEqual({ release_id: releaseIds[0], serial: serials[0] });
  });
});

describe('an agent on the S3 source', () => {
  it('first run: pointer, manifest, signature, every object once; verified and applied', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(2);
    expect(report.source).toMatchObject({ type: 's3', url_or_bucket: `s3://${SOURCE_BUCKET}/${PREFIX}`, status: 'updated', release_id: releaseIds[0], files_changed: 28 });
    expect(report.source.bytes_transferred).toBeGreaterThan(20 * 1000);
    expect(objectGets()).toBe(28);
    expect(report.apply.release_id).toBe(releaseIds[0]);
    expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
    expect(readFileSync(join(host.stageDir, '.release/manifest.json'), 'utf8')).toBe(await getText(s3.client, SOURCE_BUCKET, `${PREFIX}/releases/${releaseIds[0]}.json`));
  });

  it('an unchanged poll is exactly one GET, answered 304', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(0);
    expect(report.source).toMatchObject({ status: 'unchanged', release_id: releaseIds[0], bytes_transferred: 0 });
    expect(sourceRequests()).toEqual(['GET current.json 304']);
  });

  it('one changed file: only that object is downloaded; the rest are hard links from the cache', async () => {
    writeFileSync(join(tree, 'data-3.txt'), 'changed\n');
    expect((await publish()).stdout).toMatch(/^objects: 1 uploaded \(8 bytes\), 27 already present$/m);
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(0);
    releaseIds.push(report.source.release_id!);
    expect(report.source).toMatchObject({ status: 'updated', files_changed: 1 });
    expect(objectGets()).toBe(1);
    expect(sourceRequests().slice(0, 3)).toEqual(['GET current.json 200', `GET releases/${releaseIds[1]}.json 200`, `GET releases/${releaseIds[1]}.sig 200`]);
    expect(readFileSync(join(host.stageDir, 'data-3.txt'), 'utf8')).toBe('changed\n');
  });

  it('retries S3 throttling (503 SlowDown) with backoff and still gets the release', async () => {
    writeFileSync(join(tree, 'data-4.txt'), 'changed too\n');
    await publish();
    proxy.reset();
    proxy.failNext(2, { method: 'GET' });
    const result = await host.run(['run-now', '--json']);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.source.status).toBe('updated');
    expect(proxy.requests.filter((request) => request.outcome === 'SlowDown')).toHaveLength(2);
    releaseIds.push(report.source.release_id!);
  });

  it('refuses current.json pointing at a release that is not there, and keeps applying the last good one', async () => {
    const missing = 'e'.repeat(64);
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}/current.json`, Body: JSON.stringify({ release_id: missing, serial: 99 }) }));
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(4);
    expect(report.source).toMatchObject({ status: 'rejected', error: expect.stringMatching(/current\.json points at release eeeeeeeeeeee, but .* is missing/) });
    expect(report.apply.release_id).toBe(releaseIds[2]);
  });

  it('refuses an object whose content does not match its name, and caches nothing of it', async () => {
    writeFileSync(join(tree, 'data-5.txt'), 'honest content\n');
    await publish();
    const manifest = JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${PREFIX}/releases/${(await current()).release_id}.json`));
    const sha256 = manifest.files['data-5.txt'].sha256 as string;
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}/objects/${sha256}`, Body: 'evil content!!\n' }));
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(4);
    expect(report.source.error).toMatch(new RegExp(`objects/${sha256} does not match its name`));
    expect(activeRelease()).toBe(releaseIds[2]);
    expect(readdirSync(join(host.stateDir, 'objects')).filter((name) => name.startsWith(sha256))).toEqual([]);
    // the publisher notices the bucket lacks nothing by name, so repair by deleting the bad object and publishing again
    await s3.client.send(new DeleteObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}/objects/${sha256}` }));
    await publish();
    const repaired = await runNow();
    expect(repaired.report.source.status).toBe('updated');
    releaseIds.push(repaired.report.source.release_id!);
  });

  it('refuses a rollback of current.json to an older serial, then applies it with --allow-downgrade', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}/current.json`, Body: JSON.stringify({ release_id: releaseIds[0], serial: 1 }) }));
    const refused = await runNow();
    expect(refused.exitCode).toBe(4);
    expect(refused.report.source.error).toMatch(new RegExp(`serial ${serials[0]}, lower than the active release's \\d+ .*--allow-downgrade`));
    expect(activeRelease()).toBe(releaseIds[3]);

    const allowed = await runNow('--allow-downgrade');
    expect(allowed.report.source).toMatchObject({ status: 'updated', release_id: releaseIds[0] });
    // release 1 was pruned (3 kept): only its one file no kept release shares comes down again
    expect(objectGets()).toBe(1);
    expect(activeRelease()).toBe(releaseIds[0]);
    expect((await runNow()).report.source.status).toBe('unchanged');
  });

  it('keeps the cache to what the kept releases use', async () => {
    const cached = readdirSync(join(host.stateDir, 'objects'));
    const kept = readdirSync(join(host.stateDir, 'releases')).filter((name) => name.endsWith('.index.json'));
    expect(kept.length).toBeLessThanOrEqual(3);
    const inUse = new Set(
      kept.flatMap((name) =>
        Object.values(JSON.parse(readFileSync(join(host.stateDir, 'releases', name), 'utf8')).files as Record<string, { sha256: string; mode: string }>).map(
          (file) => `${file.sha256}-${file.mode}`,
        ),
      ),
    );
    expect(cached.filter((name) => !inUse.has(name))).toEqual([]);
  });

  it('after a rollback by hand, a publish from a DIR built afresh (a CI job) goes past what the hosts have', async () => {
    writeFileSync(join(tree, 'data-5.txt'), 'forward again\n');
    expect((await publish()).exitCode).toBe(0);
    expect((await runNow()).report.source.status).toBe('updated');
    const ahead = await current();
    // README "Rolling back": current.json pointed at an older release by hand; this host has not taken it
    await s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}/current.json`, Body: JSON.stringify({ release_id: releaseIds[0], serial: 1 }) }));
    expect((await runNow()).exitCode).toBe(4);
    // the fix, published by a job that checks the tree out fresh: nothing of the last publish is remembered
    const fresh = mkdtempSync(join(tmpdir(), 'agent-checkout-'));
    copyTree(tree, fresh);
    writeFileSync(join(fresh, 'data-6.txt'), 'the fix\n');
    while (Math.floor(Date.now() / 1000) <= ahead.serial) await new Promise((resolve) => setTimeout(resolve, 100));
    const published = await agent('publish', fresh, '--key', join(keys, 'release.key'), '--to', `s3://${SOURCE_BUCKET}/${PREFIX}`, '--endpoint', s3.endpoint);
    rmSync(fresh, { recursive: true, force: true });
    expect(published.exitCode).toBe(0);
    expect((await current()).serial).toBeGreaterThan(ahead.serial);
    const taken = await runNow();
    expect(taken.report.source.error ?? null).toBeNull();
    expect(taken.report.source.status).toBe('updated');
    expect(readFileSync(join(host.stageDir, 'data-6.txt'), 'utf8')).toBe('the fix\n');
  });
});
