import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startS3Server, listKeys, getText, type S3Server } from '../helpers/s3.js';
import { createS3Client } from '../../agent/adapters/s3.js';
import { spoolReport, listSpool } from '../../agent/report/spool.js';
import { deliverSpool } from '../../agent/report/deliver.js';
import { keepLocalCopy } from '../../agent/report/local-copies.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { silentLog } from '../../agent/adapters/log.js';
import { buildReport } from '../../agent/report/build.js';
import { EMPTY_DRIFT, type Report } from '../../agent/report/types.js';

const log = silentLog();
let s3: S3Server;
let paths: StatePaths;
let bucket: string;

function report(startedAt: string, instance = 'i-deliver'): Report {
  return buildReport({
    runId: randomUUID(),
    agentVersion: 'test',
    trigger: 'schedule',
    mode: 'enforce',
    instance: { id: instance, hostname: 'h', private_ip: null },
    startedAt: new Date(startedAt),
    finishedAt: new Date(Date.parse(startedAt) + 1000),
    nextDueAt: null,
    source: { type: 'rsync', url_or_bucket: '/x', status: 'unchanged', release_id: 'r', files_changed: 0, bytes_transferred: 0 },
    apply: { status: 'unchanged', release_id: 'r', puppet_version: '7', puppet_exit_code: 0, duration_ms: 1 },
    drift: EMPTY_DRIFT,
    redact: [],
  });
}

const location = () => ({ bucket, prefix: 'fleet/' });
const deliver = (endpoint = s3.endpoint) =>
  deliverSpool({ s3: createS3Client({ region: 'us-east-1', endpoint, force_path_style: true }, s3.env), log }, location(), paths);

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'] });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
});
afterAll(async () => s3?.remove());
let bucketIndex = 0;
beforeEach(() => {
  bucket = `b${++bucketIndex}`;
  paths = statePaths({ state_dir: mkdtempSync(join(tmpdir(), 'agent-deliver-')), stage_dir: '/nonexistent' });
});

describe('report delivery to a real S3 API', () => {
  it('uploads the spooled bytes unchanged to reports/ and latest/, then empties the spool', async () => {
    const { file } = await spoolReport(paths, report('2026-11-25T07:00:00Z'), 1000, log);
    const spooled = readFileSync(file, 'utf8');
    expect(await deliver()).toEqual({ delivered: 1, remaining: 0 });
    const keys = await listKeys(s3.client, bucket, 'fleet/');
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(await getText(s3.client, bucket, key)).toBe(spooled);
    expect(await listSpool(paths)).toEqual([]);
  });

  it('keeps reports in the spool while S3 is down and delivers them oldest first when it is back', async () => {
    await s3.stop();
    try {
      for (const at of ['2026-11-25T07:00:00Z', '2026-11-25T07:05:00Z', '2026-11-25T07:10:00Z']) await spoolReport(paths, report(at), 1000, log);
      const down = await deliver();
      expect(down.delivered).toBe(0);
      expect(down.remaining).toBe(3);
      expect(down.error).toBeTruthy();
    } finally {
      await s3.restart();
    }
    const newest = readFileSync((await listSpool(paths))[2]!.path, 'utf8');
    expect(await deliver()).toEqual({ delivered: 3, remaining: 0 });
    expect((await listKeys(s3.client, bucket, 'fleet/reports/')).length).toBe(3);
    expect(await getText(s3.client, bucket, 'fleet/latest/i-deliver.json')).toBe(newest);
  });

  it('never lets a late spooled report overwrite a newer latest/', async () => {
    await spoolReport(paths, report('2026-11-25T08:00:00Z'), 1000, log);
    await deliver();
    const latest = await getText(s3.client, bucket, 'fleet/latest/i-deliver.json');
    await spoolReport(paths, report('2026-11-25T07:00:00Z'), 1000, log);
    expect((await deliver()).delivered).toBe(1);
    expect(await getText(s3.client, bucket, 'fleet/latest/i-deliver.json')).toBe(latest);
    expect((await listKeys(s3.client, bucket, 'fleet/reports/')).length).toBe(2);
  });

  it('moves an unreadable spool entry aside instead of retrying it forever', async () => {
    mkdirSync(paths.spoolDir, { recursive: true });
    writeFileSync(join(paths.spoolDir, '20261125T060000Z-broken.json'), '{"truncated":');
    await spoolReport(paths, report('2026-11-25T07:00:00Z'), 1000, log);
    expect((await deliver()).delivered).toBe(1);
    expect(readdirSync(join(paths.spoolDir, 'bad'))).toEqual(['20261125T060000Z-broken.json']);
  });

  it('honours AWS_ENDPOINT_URL_S3 when the config names no endpoint', async () => {
    await spoolReport(paths, report('2026-11-25T07:00:00Z'), 1000, log);
    const client = createS3Client({ region: 'us-east-1', endpoint: '', force_path_style: true }, { AWS_ENDPOINT_URL_S3: s3.endpoint });
    expect((await deliverSpool({ s3: client, log }, location(), paths)).delivered).toBe(1);
  });
});

describe('the spool on disk', () => {
  it('drops the oldest past spool_max and says how many', async () => {
    for (const minute of ['00', '01', '02']) await spoolReport(paths, report(`2026-11-25T07:${minute}:00Z`), 2, log);
    const names = (await listSpool(paths)).map((entry) => entry.name);
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^20261125T070100Z/);
    const last = await spoolReport(paths, report('2026-11-25T07:03:00Z'), 2, log);
    expect(last.dropped).toBe(1);
  });

  it('leaves no temp files behind', async () => {
    await spoolReport(paths, report('2026-11-25T07:00:00Z'), 10, log);
    expect(readdirSync(paths.spoolDir).filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('keeps only the newest keep_local copies', async () => {
    for (const minute of ['00', '01', '02', '03']) {
      const { file } = await spoolReport(paths, report(`2026-11-25T07:${minute}:00Z`), 10, log);
      await keepLocalCopy(paths, file, 2);
    }
    const kept = readdirSync(paths.reportsDir).sort();
    expect(kept).toHaveLength(2);
    expect(kept[1]).toMatch(/^20261125T070300Z/);
    rmSync(paths.stateDir, { recursive: true, force: true });
  });
});
