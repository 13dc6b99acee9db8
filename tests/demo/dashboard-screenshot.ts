/**
 * Regenerates docs/dashboard.png (the README's picture): a seeded fleet on a loopback S3 server, the
 * built `agent fleet dashboard`, and Chromium's screenshots of the overview and of a host view.
 *   npm run build && node dist/tests/demo/dashboard-screenshot.js [OUT_DIR] [HOSTS]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { startBenchS3 } from '../../bench/lib/s3.js';
import { AGENT_BIN } from '../../bench/lib/paths.js';
import { launchBrowser } from '../helpers/browser.js';
import { seedDashboardFleet, writeDashboardConfig, REPORT_BUCKET, SOURCE_BUCKET, hostId } from '../helpers/dashboard-fleet.js';

const out = resolve(process.argv[2] ?? 'docs');
const size = Number(process.argv[3] ?? 2000);
// the bench's server helper: it finds s3rver-main.mjs from dist/ too
const s3 = await startBenchS3([REPORT_BUCKET, SOURCE_BUCKET]);
const work = mkdtempSync(join(tmpdir(), 'agent-dashboard-shot-'));
try {
  const now = Date.now();
  await seedDashboardFleet(s3.client, size, now);
  const config = writeDashboardConfig(work, s3.endpoint);
  const site = join(work, 'site');
  // three builds a few "minutes" apart would need a clock; one build, then two more, give the chart three points
  for (let build = 0; build < 3; build++) {
    const result = await execa(process.execPath, [AGENT_BIN, 'fleet', 'dashboard', '--out', site, '--config', config], { env: s3.env, reject: false });
    if (result.exitCode !== 0) throw new Error(`fleet dashboard exited ${result.exitCode}: ${result.stderr}`);
  }
  mkdirSync(out, { recursive: true });
  const browser = await launchBrowser();
  try {
    const { page } = await browser.page();
    await page.setViewport({ width: 1440, height: 1500 });
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    await page.waitForSelector('body[data-ready="1"]');
    await page.screenshot({ path: join(out, 'dashboard.png') });
    // the table opens sorted by urgency: its first row is a failed host, with events to show
    const failing = (await page.$$eval('#hosts tbody tr', (rows) => rows.map((row) => row.getAttribute('data-id'))))[0] ?? hostId(0);
    await page.goto(`${pathToFileURL(join(site, 'index.html')).href}#host/${failing}`);
    await page.waitForSelector('#runs');
    await page.setViewport({ width: 1440, height: 900 });
    await page.screenshot({ path: join(out, 'dashboard-host.png') });
  } finally {
    await browser.close();
  }
  process.stdout.write(`wrote ${join(out, 'dashboard.png')} and ${join(out, 'dashboard-host.png')}\n`);
} finally {
  await s3.remove();
  rmSync(work, { recursive: true, force: true });
}
