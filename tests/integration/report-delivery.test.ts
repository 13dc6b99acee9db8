import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { startS3Server, type S3Server, type S3BucketView } from '../helpers/s3.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { freePort } from '../helpers/ports.js';
import { createS3Client, usePathStyle, type S3Limits } from '../../agent/adapters/s3.js';
import { spoolReport, listSpool, BAD_KEPT } from '../../agent/report/spool.js';
import { deliverSpool } from '../../agent/report/deliver.js';
import { keepLocalCopy, listLocalCopies } from '../../agent/report/local-copies.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { silentLog } from '../../agent/adapters/log.js';
import type { Report } from '../../agent/report/types.js';
import { sampleReport } from '../helpers/reports.js';

const log = silentLog();
const PREFIX = 'fleet/';
let s3: S3Server;
let proxy: S3Proxy;
let paths: StatePaths;
let bucket: S3BucketView;
const savedEnv = { ...process.env };

function report(startedAt: string, instance = 'i-deliver'): Report {
  return sampleReport(startedAt, { instanceId: instance });
}

const spool = (startedAt: string, spoolMax = 1000) => spoolReport(paths, report(startedAt), spoolMax, log);
const client = (endpoint: string, env: NodeJS.ProcessEnv = {}, limits?: S3Limits) =>
  createS3Client({ region: 'us-east-1', endpoint, force_path_style: false }, env, limits);
async function deliver(endpoint = s3.endpoint, env: NodeJS.ProcessEnv = {}, limits?: S3Limits) {
  const s3Client = client(endpoint, env, limits);
  try {
    return await deliverSpool({ s3: s3Client, log }, { bucket: bucket.name, prefix: PREFIX }, paths);
  } finally {
    s3Client.destroy();
  }
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports'] });
  proxy = await startS3Proxy(s3);
  // the agent's client takes credentials from the SDK's default chain, as on EC2
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
  delete process.env.AWS_ENDPOINT_URL_S3;
});
afterAll(async () => {
  process.env = savedEnv;
  await proxy?.stop();
  await s3?.remove();
});
beforeEach(async () => {
  bucket = await s3.createBucket(`reports-${randomUUID().slice(0, 8)}`);
  paths = statePaths({ state_dir: mkdtempSync(join(tmpdir(), 'agent-deliver-')), stage_dir: '/nonexistent' });
  proxy.reset();
});
afterEach(() => rmSync(paths.stateDir, { recursive: true, force: true }));

describe('report delivery to a real S3 API', () => {
  it('uploads the spooled bytes unchanged to reports/ and latest/ as JSON, then empties the spool', async () => {
    const { file } = await spool('2026-11-25T07:00:00Z');
    const spooled = readFileSync(file, 'utf8');
    expect(await deliver()).toEqual({ delivered: 1, remaining: 0 });
    const keys = await bucket.listKeys(PREFIX);
    expect(keys).toEqual([expect.stringMatching(/^fleet\/latest\/i-deliver\.json$/), expect.stringMatching(/^fleet\/reports\/dt=2026-11-25\/i-deliver\/20261125T070000Z-.+\.json$/)]);
    for (const key of keys) expect(await bucket.getText(key)).toBe(spooled);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: keys[0] }));
    expect(head.ContentType).toBe('application/json');
    expect(await listSpool(paths)).toEqual([]);
  });

  it('keeps reports in the spool while S3 is down, without throwing, and delivers them oldest first when it is back', async () => {
    await s3.stop();
    try {
      for (const at of ['2026-11-25T07:10:00Z', '2026-11-25T07:00:00Z', '2026-11-25T07:05:00Z']) await spool(at);
      const started = Date.now();
      const down = await deliver();
      expect(down).toEqual({ delivered: 0, remaining: 3, error: expect.stringContaining(`s3://${bucket.name}/fleet/reports/dt=2026-11-25/i-deliver/20261125T070000Z`) });
      expect(down.error).toMatch(/: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await listSpool(paths)).toHaveLength(3);
    } finally {
      await s3.restart();
    }
    const newest = readFileSync((await listSpool(paths))[2]!.path, 'utf8');
    expect(await deliver(proxy.endpoint)).toEqual({ delivered: 3, remaining: 0 });
    const puts = proxy.requests.filter((seen) => seen.method === 'PUT').map((seen) => seen.path.replace(`/${bucket.name}/fleet/`, ''));
    expect(puts).toEqual([
      expect.stringMatching(/^reports\/.*20261125T070000Z/),
      'latest/i-deliver.json',
      expect.stringMatching(/^reports\/.*20261125T070500Z/),
      'latest/i-deliver.json',
      expect.stringMatching(/^reports\/.*20261125T071000Z/),
      'latest/i-deliver.json',
    ]);
    expect(await bucket.getText('fleet/latest/i-deliver.json')).toBe(newest);
  });

  it('never lets a late spooled report overwrite a newer latest/, but still files it under reports/', async () => {
    await spool('2026-11-25T08:00:00Z');
    await deliver();
    const latest = await bucket.getText('fleet/latest/i-deliver.json');
    await spool('2026-11-25T07:00:00Z');
    expect(await deliver(proxy.endpoint)).toEqual({ delivered: 1, remaining: 0 });
    expect(proxy.count('PUT')).toBe(1);
    expect(await bucket.getText('fleet/latest/i-deliver.json')).toBe(latest);
    expect(await bucket.listKeys('fleet/reports/')).toHaveLength(2);
  });

  it('uploads a report again under the same key, never as a duplicate', async () => {
    const same = report('2026-11-25T07:00:00Z');
    await spoolReport(paths, same, 1000, log);
    await deliver();
    await spoolReport(paths, same, 1000, log);
    expect((await deliver()).delivered).toBe(1);
    expect(await bucket.listKeys('fleet/reports/')).toHaveLength(1);
  });

  it('moves an unreadable spool entry aside with a log line, and delivers the ones behind it', async () => {
    mkdirSync(paths.spoolDir, { recursive: true });
    writeFileSync(join(paths.spoolDir, '20261125T060000Z-broken.json'), '{"truncated":');
    await spool('2026-11-25T07:00:00Z');
    const lines: Array<Record<string, unknown>> = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const s3Client = client(s3.endpoint);
    const result = await deliverSpool({ s3: s3Client, log: capture }, { bucket: bucket.name, prefix: PREFIX }, paths);
    s3Client.destroy();
    expect(result).toEqual({ delivered: 1, remaining: 0 });
    expect(readdirSync(join(paths.spoolDir, 'bad'))).toEqual(['20261125T060000Z-broken.json']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, file: '20261125T060000Z-broken.json' }));
    expect(await listSpool(paths)).toEqual([]);
  });

  it('keeps spool/bad bounded: the newest unreadable reports stay, the oldest go, with a log line', async () => {
    const bad = join(paths.spoolDir, 'bad');
    mkdirSync(bad, { recursive: true });
    const old = Array.from({ length: BAD_KEPT + 5 }, (_, i) => `20261101T0000${String(i).padStart(2, '0')}Z-old-${i}.json`);
    for (const name of old) writeFileSync(join(bad, name), 'garbage');
    writeFileSync(join(paths.spoolDir, '20261125T060000Z-broken-again.json'), '{"truncated":');
    const lines: Array<Record<string, unknown>> = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const s3Client = client(s3.endpoint);
    await deliverSpool({ s3: s3Client, log: capture }, { bucket: bucket.name, prefix: PREFIX }, paths);
    s3Client.destroy();
    const kept = readdirSync(bad).sort();
    expect(kept).toHaveLength(BAD_KEPT);
    expect(kept.at(-1)).toBe('20261125T060000Z-broken-again.json');
    expect(kept[0]).toBe(old[6]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, removed: 6, msg: 'spool/bad full: oldest unreadable reports removed' }));
  });

  it('stops at a bucket that does not exist, names it, and keeps every report', async () => {
    await spool('2026-11-25T07:00:00Z');
    await spool('2026-11-25T07:05:00Z');
    const s3Client = client(s3.endpoint);
    const result = await deliverSpool({ s3: s3Client, log }, { bucket: 'no-such-bucket', prefix: '' }, paths);
    s3Client.destroy();
    expect(result).toEqual({ delivered: 0, remaining: 2, error: expect.stringMatching(/^s3:\/\/no-such-bucket\/reports\/.*NoSuchBucket.*HTTP 404/) });
  });
});

describe('local copies beside delivery (report.keep_local)', () => {
  it('keeps the newest keep_local copies on the host even while S3 is down; delivery leaves them alone', async () => {
    await s3.stop();
    try {
      for (const minute of ['00', '01', '02', '03']) await keepLocalCopy(paths, (await spool(`2026-11-25T07:${minute}:00Z`)).file, 2);
      expect((await deliver()).delivered).toBe(0);
    } finally {
      await s3.restart();
    }
    const kept = await listLocalCopies(paths);
    expect(kept.map((name) => name.slice(0, 16))).toEqual(['20261125T070200Z', '20261125T070300Z']);
    expect((await deliver()).delivered).toBe(4);
    expect(await listLocalCopies(paths)).toEqual(kept);
  });
});

describe('where the client sends requests', () => {
  it('honours AWS_ENDPOINT_URL_S3 when the config names no endpoint', async () => {
    await spool('2026-11-25T07:00:00Z');
    expect(await deliver('', { AWS_ENDPOINT_URL_S3: proxy.endpoint })).toEqual({ delivered: 1, remaining: 0 });
    expect(proxy.count('PUT')).toBe(2);
  });

  it('prefers the config endpoint over AWS_ENDPOINT_URL_S3', async () => {
    await spool('2026-11-25T07:00:00Z');
    const nothing = `http://127.0.0.1:${await freePort()}`;
    expect(await deliver(proxy.endpoint, { AWS_ENDPOINT_URL_S3: nothing })).toEqual({ delivered: 1, remaining: 0 });
    expect(proxy.count('PUT')).toBe(2);
  });

  it('uses path style for a named custom endpoint (bucket.localhost would not resolve)', async () => {
    await spool('2026-11-25T07:00:00Z');
    expect(await deliver(`http://localhost:${s3.port}`)).toEqual({ delivered: 1, remaining: 0 });
    expect(usePathStyle({ force_path_style: false }, 'https://s3.us-east-1.amazonaws.com')).toBe(false);
    expect(usePathStyle({ force_path_style: true }, undefined)).toBe(true);
  });
});

describe('a slow or throttling S3', () => {
  it('retries SlowDown with backoff and delivers', async () => {
    await spool('2026-11-25T07:00:00Z');
    proxy.failNext(2, { method: 'PUT' });
    expect(await deliver(proxy.endpoint)).toEqual({ delivered: 1, remaining: 0 });
    expect(proxy.requests.map((seen) => seen.outcome)).toEqual(['SlowDown', 'SlowDown', 'forwarded', 'forwarded']);
  });

  it('gives up after three attempts, says why, and keeps the report', async () => {
    await spool('2026-11-25T07:00:00Z');
    proxy.failNext(100, { status: 500, code: 'InternalError' });
    const result = await deliver(proxy.endpoint);
    proxy.failNext(0);
    expect(result).toEqual({ delivered: 0, remaining: 1, error: expect.stringMatching(/InternalError.*HTTP 500/) });
    expect(proxy.count('PUT')).toBe(3);
  });

  it('abandons a request S3 never answers after requestTimeout instead of hanging the run', async () => {
    await spool('2026-11-25T07:00:00Z');
    proxy.hang(true);
    try {
      const started = Date.now();
      const result = await deliver(proxy.endpoint, {}, { connectionTimeoutMs: 1_000, requestTimeoutMs: 500, maxAttempts: 2 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result).toEqual({ delivered: 0, remaining: 1, error: expect.stringContaining('TimeoutError') });
      expect(proxy.count('PUT')).toBe(2);
    } finally {
      proxy.hang(false);
    }
    expect(await listSpool(paths)).toHaveLength(1);
  });
});
