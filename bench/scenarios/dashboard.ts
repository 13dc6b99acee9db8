/**
 * Issue #15: `agent fleet dashboard` over 10,000 seeded hosts on the loopback S3 server (s3rver): build
 * time against `fleet status --json` over the same bucket (the same reads, so the ratio is what the site
 * costs on top), page load to interactive in Debian's headless Chromium from file://, and the data's
 * size gzip-compressed (what an S3 website with compression, or a browser over a slow link, moves).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startBenchS3 } from '../lib/s3.js';
import { AGENT_BIN } from '../lib/paths.js';
import { timed, expectExit } from '../lib/timed.js';
import { launchBrowser } from '../../tests/helpers/browser.js';
import { seedDashboardFleet, writeDashboardConfig, REPORT_BUCKET, SOURCE_BUCKET } from '../../tests/helpers/dashboard-fleet.js';
import { pairedRatio, single, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const LOADS = 5;

export const dashboard: Scenario = {
  name: 'dashboard',
  title: '9. Fleet dashboard (issue #15)',
  async run(options) {
    const size = options.quick ? 200 : 10_000;
    const s3 = await startBenchS3([REPORT_BUCKET, SOURCE_BUCKET]);
    const work = mkdtempSync(join(tmpdir(), 'bench-dashboard-'));
    try {
      const seeding = performance.now();
      await seedDashboardFleet(s3.client, size, Date.now());
      const seeded = (performance.now() - seeding) / 1000;
      const config = writeDashboardConfig(work, s3.endpoint);
      const site = join(work, 'site');
      const repetitions = size >= 10_000 ? Math.min(options.repetitions, 3) : options.repetitions;
      const build: number[] = [];
      const status: number[] = [];
      for (let rep = 0; rep < repetitions; rep++) {
        const run = (args: string[], what: string) => timed(process.execPath, [AGENT_BIN, 'fleet', ...args, '--config', config], { env: s3.env, timeoutMs: 600_000 }).then((result) => expectExit(result, [0], what));
        status.push((await run(['status', '--json'], 'agent fleet status')).ms);
        build.push((await run(['dashboard', '--out', site], 'agent fleet dashboard')).ms);
        options.log(`  ${size}: fleet status ${(status.at(-1)! / 1000).toFixed(1)} s, dashboard ${(build.at(-1)! / 1000).toFixed(1)} s`);
      }
      const interactive = await pageLoads(join(site, 'index.html'));
      const dataFiles = ['data/summary.js', 'data/hosts.js', ...readdirSync(join(site, 'data/hosts')).map((name) => `data/hosts/${name}`)];
      const raw = dataFiles.reduce((sum, file) => sum + readFileSync(join(site, file)).length, 0);
      const gzip = dataFiles.reduce((sum, file) => sum + gzipSync(readFileSync(join(site, file))).length, 0);
      const seconds = (samples: number[]) => summarize(samples.map((ms) => ms / 1000));
      const hosts = size.toLocaleString('en-US');
      const rows: Row[] = [
        { metric: `build, ${hosts} hosts${repetitions !== options.repetitions ? ` (${repetitions} repetitions)` : ''}`, unit: 's', baseline: seconds(status), subject: seconds(build), ratio: pairedRatio(build, status), target: { on: 'subject', max: 15, source: 'issue #15' } },
        { metric: `page load to interactive (file://, ${LOADS} loads)`, unit: 's', subject: seconds(interactive), target: { on: 'subject', max: 2, source: 'issue #15' } },
        { metric: 'data, gzip', unit: 'MB', subject: single(gzip / 1e6), target: { on: 'subject', max: 3, source: 'issue #15' } },
        { metric: 'data, uncompressed', unit: 'MB', subject: single(raw / 1e6) },
      ];
      return {
        baseline: '`agent fleet status --json` over the same bucket (the same list + get of registry/ and latest/)',
        subject: '`agent fleet dashboard --out DIR` (the same reads, plus the previous site\'s history and host shards, aggregation, 70 files written)',
        rows,
        notes: [
          `${hosts} hosts seeded in ${seeded.toFixed(1)} s (every state, a rollout, flapping and failing resources: tests/helpers/dashboard-fleet.ts).`,
          'Interactive = from navigation until the page has rendered the counts, charts, breakdowns and the first table page (body[data-ready]), in Debian\'s headless Chromium, a fresh tab each load.',
          'Data = data/summary.js, data/hosts.js and the 64 host shards (the page loads the first two at start, a shard when a host view opens).',
        ],
      };
    } finally {
      await s3.remove();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

async function pageLoads(index: string): Promise<number[]> {
  const browser = await launchBrowser();
  try {
    const samples: number[] = [];
    for (let load = 0; load < LOADS; load++) {
      const { page } = await browser.page();
      const started = performance.now();
      await page.goto(pathToFileURL(index).href);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
      samples.push(performance.now() - started);
      await page.close();
    }
    return samples;
  } finally {
    await browser.close();
  }
}
