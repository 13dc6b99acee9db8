/**
 * Item 5, for real: a few hundred polls by the real agent, each its own process (`agent run-now
 * --trigger schedule --no-wait`, the daemon's per-tick child), against each source, measured from the
 * source side: for the loopback sshd rsync source, the forced command notes the time of every rsync it
 * starts; for the loopback S3 source, a proxy in front of the server logs every request.
 * The polls are due at splayOffsetMs(id, window) (the agent's spread, compressed into a short window);
 * the baseline is the same polls all due at once (no splay). Parallelism is bounded by the hosts
 * (state dirs) there are: each worker polls as its own host, so a host never overlaps itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Proxy } from '../../tests/helpers/s3-proxy.js';
import { publishToS3, startRig } from '../lib/rig.js';
import { expectExit } from '../lib/timed.js';
import { sleep } from '../lib/wait.js';
import { instanceIds } from '../fleet-sim/instance-ids.js';
import { planPolls, type PlannedPoll } from '../fleet-sim/load-plan.js';
import { bucketLoad, type Load } from '../fleet-sim/buckets.js';
import { single, summarize, ratioOf } from '../stats.js';
import type { BenchHost } from '../lib/agent-host.js';
import type { Row, Scenario } from '../scenario.js';

/** The simulation's bucket (5a), so the two read alike. */
const BUCKET_MS = 10_000;

export const fleetLoad: Scenario = {
  name: 'fleet-load',
  title: '5c. Fleet load run: real polls against the rsync and S3 sources',
  async run(options) {
    const polls = options.quick ? 4 : 160;
    const workers = options.quick ? 2 : 4;
    const windowMs = options.quick ? 2_000 : 120_000;
    const rig = await startRig({ logConnections: true });
    const work = mkdtempSync(join(tmpdir(), 'bench-load-'));
    const proxy = await startS3Proxy({ port: Number(new URL(rig.s3.endpoint).port) });
    try {
      const ids = instanceIds(polls, 77);
      const viaS3 = await publishToS3(rig, work);
      const rows: Row[] = [];
      const sources = [
        { name: 'rsync', overrides: {}, requestTimes: () => rig.source.readConnections().map((seconds) => seconds * 1000) },
        { name: 'S3', overrides: viaS3(proxy.endpoint), requestTimes: () => proxy.requests.filter((request) => request.path.includes('/source/')).map((request) => request.at) },
      ];
      for (const source of sources) {
        options.log(`  ${source.name} source`);
        const hosts = Array.from({ length: workers }, (_, index) => rig.host(`i-0load${source.name.toLowerCase()}${String(index).padStart(8, '0')}`, source.overrides));
        // each host applies once, so its later scheduled runs are polls that skip Puppet
        await Promise.all(hosts.map(async (host) => expectExit(await host.run(['run-now']), [2], 'first run of a load host')));
        const splayed = await loadRun(source.requestTimes, hosts, planPolls(ids, windowMs, true), options.log);
        const burst = await loadRun(source.requestTimes, hosts, planPolls(ids, windowMs, false), options.log);
        const row = (metric: string, unit: string, pick: (run: LoadRun) => number): Row => ({ metric: `${source.name}: ${metric}`, unit, baseline: single(pick(burst)), subject: single(pick(splayed)), ratio: ratioOf(pick(splayed), pick(burst)) });
        rows.push(
          row('requests the source saw', 'count', (run) => run.load.total),
          row('source requests per poll', 'ratio', (run) => run.load.total / polls),
          row('busiest 10 s', 'requests', (run) => run.load.peak),
          row('busiest 10 s / mean 10 s', 'ratio', (run) => run.load.peakToMean),
          row('polls that did not exit 0', 'count', (run) => run.failed),
          { metric: `${source.name}: poll wall time (one process)`, unit: 's', baseline: summarize(burst.pollMs.map((ms) => ms / 1000)), subject: summarize(splayed.pollMs.map((ms) => ms / 1000)) },
          row('lateness: start after due, median', 's', (run) => run.lateMedianMs / 1000),
        );
      }
      return {
        baseline: `the same ${polls} polls all due at once (no splay), through the same ${workers} workers`,
        subject: `${polls} polls due at splayOffsetMs(id, ${windowMs / 1000} s), ${workers} workers (one state dir each), per source`,
        rows,
        notes: [
          'Requests are counted on the source side. rsync: the authorized_keys forced command appends a timestamp per rsync before exec\'ing rrsync. S3: a proxy in front of the loopback S3 server logs every request under the source prefix (an unchanged poll is one conditional GET answered 304). Buckets are 10 s, as in the simulation (5a), from the first due time to the last request.',
          `Mean 10 s = requests / 10-second buckets spanned. Without splay the workers are the limit (a real fleet has none: ${polls} hosts would connect in the same instant); with splay the source sees the schedule's spread, as long as the workers keep up (lateness row).`,
        ],
      };
    } finally {
      await proxy.stop();
      await rig.remove();
      rmSync(work, { recursive: true, force: true });
    }
  },
};

interface LoadRun {
  load: Load;
  failed: number;
  pollMs: number[];
  lateMedianMs: number;
}

async function loadRun(requestTimes: () => number[], hosts: BenchHost[], plan: PlannedPoll[], log: (message: string) => void): Promise<LoadRun> {
  const before = requestTimes().length;
  const started = Date.now();
  const queue = [...plan];
  const pollMs: number[] = [];
  const late: number[] = [];
  let failed = 0;
  const worker = async (host: BenchHost) => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const wait = started + next.dueMs - Date.now();
      if (wait > 0) await sleep(wait);
      late.push(Date.now() - (started + next.dueMs));
      const run = await host.run(['run-now', '--trigger', 'schedule', '--no-wait']);
      pollMs.push(run.ms);
      if (run.exitCode !== 0) failed += 1;
    }
  };
  await Promise.all(hosts.map(worker));
  const seen = requestTimes().slice(before);
  const last = Math.max(...seen, started + 1000);
  const load = bucketLoad(seen, started, Math.max(last + 1, started + (plan.at(-1)?.dueMs ?? 0) + 1), BUCKET_MS);
  log(`  ${(plan.at(-1)?.dueMs ?? 0) > 0 ? 'splayed' : 'burst'}: ${load.total} requests over ${load.buckets.length} buckets of 10 s, busiest ${load.peak}, ${failed} failed`);
  return { load, failed, pollMs, lateMedianMs: summarize(late).median };
}
