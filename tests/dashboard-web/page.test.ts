import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDashboard } from '../../agent/dashboard/aggregate.js';
import { emptyHistory } from '../../agent/dashboard/history.js';
import { loadAssets } from '../../agent/dashboard/assets.js';
import { siteFiles } from '../../agent/dashboard/site.js';
import { directoryStore } from '../../agent/dashboard/site-store.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { seededDocuments } from '../helpers/dashboard-fleet.js';
import type { Fetched } from '../../agent/fleet/s3-read.js';
import type { Registration } from '../../agent/fleet/registration.js';
import type { Report } from '../../agent/report/types.js';

/**
 * The page in Chromium over small sites written straight from the builder's pure functions: an empty
 * fleet, a fleet without a rollout, and hostile text in a report (which must stay text).
 */
let browser: TestBrowser;
const dirs: string[] = [];
const NOW = Date.now();

async function writeSite(registry: Map<string, Fetched<Registration>>, latest: Map<string, Fetched<Report>>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-dashboard-page-'));
  dirs.push(dir);
  const dashboard = buildDashboard({ registry, latest, rollout: null, now: new Date(NOW), driftCheckEveryMs: 1_800_000, staleAfterMs: 3_900_000, history: emptyHistory(), days: 14, previousRuns: new Map(), shards: 64 });
  await directoryStore(dir).write(siteFiles(dashboard, loadAssets()));
  return pathToFileURL(join(dir, 'index.html')).href;
}

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard page', () => {
  it('renders an empty fleet without errors', async () => {
    const url = await writeSite(new Map(), new Map());
    const { page, problems } = await browser.page();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.$eval('#count-compliant', (element) => element.textContent)).toBe('0');
    expect(await page.$eval('#hosts tbody', (element) => element.textContent)).toContain('No host matches.');
    expect(await page.$eval('#rollout', (element) => element.textContent)).toContain('No rollout');
    expect(await page.$('#count-unreadable')).toBeNull(); // shown only when there are some
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keeps hostile text from a report as text: no markup, no script runs', async () => {
    const docs = seededDocuments(0, NOW);
    const report = docs.report as Report;
    const evil = '<img src=x onerror="window.pwned=1">';
    const hostile: Report = {
      ...report,
      result: 'failed',
      drift: { ...report.drift, failed: 1, resources: [{ resource: `File[${evil}]`, type: 'File', title: evil, manifest_file: null, line: null, corrective_change: false, flapping: false, failed: true,
        events: [{ property: 'content', previous_value: evil, desired_value: '</script><script>window.pwned=2</script>', status: 'failure', message: evil }] }] },
    };
    const url = await writeSite(new Map([[docs.id, { ok: true, value: { ...(docs.registration as Registration), hostname: evil } }]]), new Map([[docs.id, { ok: true, value: hostile }]]));
    const { page, problems } = await browser.page();
    await page.goto(`${url}#host/${docs.id}`);
    await page.waitForSelector('#runs .run');
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.$eval('#runs', (element) => element.textContent)).toContain(evil);
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
    expect(await page.$eval('#top-failing', (element) => element.textContent)).toContain(`File[${evil}]`);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(problems.filter((problem) => !problem.includes('/x'))).toEqual([]);
    await page.close();
  });

  it('says so when a host shard file is missing instead of hanging', async () => {
    const docs = seededDocuments(0, NOW);
    const url = await writeSite(new Map([[docs.id, { ok: true, value: docs.registration as Registration }]]), new Map([[docs.id, { ok: true, value: docs.report as Report }]]));
    rmSync(join(dirs.at(-1)!, 'data', 'hosts'), { recursive: true });
    const { page } = await browser.page();
    await page.goto(`${url}#host/${docs.id}`);
    await page.waitForSelector('#host-view .fatal');
    expect(await page.$eval('#host-view .fatal', (element) => element.textContent)).toMatch(/data\/hosts\/\d\d\.js could not be loaded/);
    await page.close();
  });
});
