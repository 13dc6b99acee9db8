import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execa, type ResultPromise } from 'execa';
import { startS3Server, type S3Server } from '../helpers/s3.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import { freePort } from '../helpers/ports.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { seededDocuments } from '../helpers/dashboard-fleet.js';

/**
 * The dashboard when S3 holds bad data (a corrupt latest/ object, a report of an unknown schema, a
 * registry entry without reports) or cannot be read at all, and `--serve`.
 */
let s3: S3Server;
let work: string;
let browser: TestBrowser;
const NOW = Date.now();

async function put(key: string, body: unknown) {
  await s3.client.send(new PutObjectCommand({ Bucket: 'fleet-reports', Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body) }));
}

function dashboard(args: string[], endpoint = s3.endpoint) {
  return execa(process.execPath, [AGENT_BIN, 'fleet', 'dashboard', ...args, '--bucket', 'fleet-reports', '--endpoint', endpoint, '--path-style'], {
    reject: false,
    env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' },
    timeout: 120_000,
  });
}

beforeAll(async () => {
  s3 = await startS3Server();
  work = mkdtempSync(join(tmpdir(), 'agent-dashboard-bad-'));
  for (let index = 0; index < 20; index++) {
    const docs = seededDocuments(index, NOW);
    if (docs.registration) await put(`registry/${docs.id}.json`, docs.registration);
    if (docs.report) await put(`latest/${docs.id}.json`, docs.report);
  }
  const healthy = seededDocuments(0, NOW).report as Record<string, unknown>;
  await put('registry/i-corrupt.json', { ...(seededDocuments(1, NOW).registration as object), instance_id: 'i-corrupt' });
  await put('latest/i-corrupt.json', '{"schema": "agent.report/v1", "run_id": ');
  await put('registry/i-future.json', { ...(seededDocuments(2, NOW).registration as object), instance_id: 'i-future' });
  await put('latest/i-future.json', { ...healthy, schema: 'agent.report/v9', instance: { id: 'i-future' } });
  await put('registry/i-new.json', { ...(seededDocuments(3, NOW).registration as object), instance_id: 'i-new' });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await s3?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('agent fleet dashboard with bad data', () => {
  it('exits 0, names each bad entry with its key and reason, and counts the warnings', async () => {
    const result = await dashboard(['--out', join(work, 'site')]);
    expect(result.exitCode).toBe(0);
    const stderr = String(result.stderr);
    expect(stderr).toMatch(/warning: i-corrupt: unreadable: latest\/i-corrupt.json: not valid JSON/);
    expect(stderr).toContain('warning: i-future: unreadable: latest/i-future.json: unknown schema "agent.report/v9" (expected "agent.report/v1")');
    expect(stderr).toContain('warning: i-new: unreported: registered, but no report in latest/ yet');
    const seededUnreported = Array.from({ length: 20 }, (_, index) => seededDocuments(index, NOW)).filter((docs) => docs.registration && !docs.report).length;
    expect(String(result.stdout)).toContain(`, ${3 + seededUnreported} warning`);
  });

  it('renders the page anyway and lists the bad entries as such', async () => {
    const { page, problems } = await browser.page();
    await page.goto(pathToFileURL(join(work, 'site', 'index.html')).href);
    await page.waitForSelector('body[data-ready="1"]');
    const listed = await page.$eval('#problems', (element) => element.textContent ?? '');
    expect(listed).toContain('i-corrupt');
    expect(listed).toContain('not valid JSON');
    expect(listed).toContain('unknown schema "agent.report/v9"');
    expect(listed).toContain('i-new');
    expect(Number(await page.$eval('#count-unreadable', (element) => element.textContent))).toBe(2);
    await page.goto(`${pathToFileURL(join(work, 'site', 'index.html')).href}#host/i-future`);
    await page.waitForSelector('#host-problem');
    expect(await page.$eval('#host-problem', (element) => element.textContent)).toContain('unknown schema');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a progress bar of the objects read when stderr is a terminal', async () => {
    // util-linux `script` gives the command a pseudo-terminal
    const command = [process.execPath, AGENT_BIN, 'fleet', 'dashboard', '--out', join(work, 'tty'), '--bucket', 'fleet-reports', '--endpoint', s3.endpoint, '--path-style'].map((part) => `'${part}'`).join(' ');
    const result = await execa('script', ['-qec', command, '/dev/null'], { reject: false, env: { ...s3.env, AGENT_CONFIG: '/nonexistent/agent.yaml' }, timeout: 120_000 });
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toMatch(/\ragent: dashboard: reading S3 \[#{30}\] (\d+)\/\1 objects/);
  });

  it('starts a new history when history.json is damaged, and says so', async () => {
    const site = join(work, 'site');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(site, 'history.json'), '{"schema": "agent.dashboard-history/v1", "snap');
    const result = await dashboard(['--out', site]);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain('warning: history.json: not valid JSON');
    expect(JSON.parse(readFileSync(join(site, 'history.json'), 'utf8')).snapshots).toHaveLength(1);
  });

  it('exits 1 and writes nothing when S3 cannot be read at all', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await dashboard(['--out', join(work, 'nothing')], closed);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toMatch(/agent: dashboard: build failed: .*ECONNREFUSED/);
    expect(() => readFileSync(join(work, 'nothing', 'index.html'))).toThrow();
  }, 120_000);

  it('refuses a missing --out, a bad --days and --serve to S3 as usage errors (64)', async () => {
    expect((await dashboard([])).exitCode).toBe(64);
    expect(String((await dashboard(['--out', work, '--days', 'two'])).stderr)).toContain('--days: expected a positive whole number of days, got "two"');
    expect((await dashboard(['--serve', '--out', 's3://b/p'])).exitCode).toBe(64);
  });
});

describe('agent fleet dashboard --serve', () => {
  it('serves the page on 127.0.0.1, rebuilds it on schedule, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const site = join(work, 'served');
    const server: ResultPromise = dashboard(['--serve', '--port', String(port), '--out', site, '--every', '3s']);
    const get = async (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then(async (response) => ({ status: response.status, type: response.headers.get('content-type'), body: await response.text() }));
    let index: { status: number; type: string | null; body: string } | undefined;
    for (let attempt = 0; attempt < 100 && !index; attempt++) {
      index = await get('/').catch(() => undefined);
      if (!index) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index!.body).toContain('Fleet dashboard');
    expect((await get('/../../etc/passwd')).status).toBe(404);
    const before = JSON.parse(readFileSync(join(site, 'history.json'), 'utf8')).snapshots.length;
    await put('registry/i-late.json', { ...(seededDocuments(4, NOW).registration as object), instance_id: 'i-late' });
    let summary = '';
    for (let attempt = 0; attempt < 60 && !summary.includes('i-late'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      summary = (await get('/data/hosts.js')).body;
    }
    expect(summary).toContain('i-late');
    expect(JSON.parse(readFileSync(join(site, 'history.json'), 'utf8')).snapshots.length).toBeGreaterThan(before);
    server.kill('SIGTERM');
    const result = await server;
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain(`serving http://127.0.0.1:${port}/`);
  }, 120_000);
});
