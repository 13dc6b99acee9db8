/**
 * Item 4: sync + verify + activate for trees of 100, 1,000 and 10,000 files, and the unchanged poll of
 * each, for the signed rsync source (over the loopback sshd + rrsync) and the S3 source (loopback S3).
 * The agent's own code runs in this process (fetch, verify, activate: what a run does before Puppet),
 * so the figures are the source stage alone. Baseline: the seed's `rsync -az --delete` of the same tree
 * over the same sshd, into a copy it keeps up to date (what the cron script paid before Puppet).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startSshd } from '../../tests/helpers/sshd.js';
import { copyTree } from '../../tests/helpers/fixture-trees.js';
import { parseConfig } from '../../agent/config/load.js';
import { statePaths } from '../../agent/run/paths.js';
import { exec } from '../../agent/adapters/exec.js';
import { silentLog } from '../../agent/adapters/log.js';
import { fetchRsyncRelease } from '../../agent/source/rsync.js';
import { closeSshMasters } from '../../agent/adapters/ssh-master.js';
import { fetchS3Release } from '../../agent/source/s3-source.js';
import { activateRelease, readActiveRelease } from '../../agent/release/activate.js';
import { pruneCache, pruneReleases } from '../../agent/release/prune.js';
import { sshCommand } from '../../agent/source/rsync-args.js';
import type { Config } from '../../agent/config/schema.js';
import type { FetchedRelease } from '../../agent/source/types.js';
import { startBenchS3 } from '../lib/s3.js';
import { AGENT_BIN, FIXTURE_TREE } from '../lib/paths.js';
import { expectExit, timed } from '../lib/timed.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const SOURCE_BUCKET = 'releases';
const deps = { exec, log: silentLog() };

export const treeScale: Scenario = {
  name: 'tree-scale',
  title: '4. Tree scale: signed rsync and S3 sources',
  async run(options) {
    const sizes = options.quick ? [100] : [100, 1000, 10_000];
    // three repetitions at most: a 10,000-file publish per repetition and source is most of the time
    const work = mkdtempSync(join(tmpdir(), 'bench-scale-'));
    const keys = join(work, 'release');
    const dist = join(work, 'dist');
    mkdirSync(dist);
    const sshd = await startSshd({ authorizedKeys: (key) => `restrict,command="/usr/bin/rrsync -ro ${dist}" ${key}\n` });
    const s3 = await startBenchS3([SOURCE_BUCKET, 'fleet-reports']);
    Object.assign(process.env, s3.env); // the agent's S3 client takes credentials from the environment
    const agent = (args: string[]) => execa(process.execPath, [AGENT_BIN, ...args], { env: s3.env, reject: false });
    const rows: Row[] = [];
    try {
      expectExit(await timedAgent(agent, ['keygen', '--out', keys]), [0], 'keygen');
      for (const size of sizes) {
        options.log(`  ${size} files`);
        writeTree(dist, size);
        const rsyncHost = hostConfig(work, `rsync-${size}`, { url: 'root@127.0.0.1:/', ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts, port: sshd.port }, `${keys}.pub`);
        const s3Host = hostConfig(work, `s3-${size}`, { type: 's3', bucket: SOURCE_BUCKET, prefix: `tree-${size}`, endpoint: s3.endpoint, force_path_style: true }, `${keys}.pub`);
        const seedStage = join(work, `seed-${size}`);
        const ssh = sshCommand({ port: sshd.port, ssh_key: sshd.clientKey, known_hosts: sshd.knownHosts });
        const seed = () => timed('rsync', ['-az', '--delete', '-e', ssh, 'root@127.0.0.1:/', `${seedStage}/`]);
        // the floor of an atomic switch: a complete new tree beside the old one, unchanged files hard-linked
        const newTreeBeside = async (rep: number) => {
          const fresh = join(work, `floor-${size}-${rep}`);
          const run = expectExit(await timed('rsync', ['-az', '--delete', `--link-dest=${seedStage}`, '-e', ssh, 'root@127.0.0.1:/', `${fresh}/`]), [0], 'rsync --link-dest');
          rmSync(fresh, { recursive: true, force: true });
          return run.ms;
        };
        const publish = async () => {
          expectExit(await timedAgent(agent, ['publish', dist, '--key', `${keys}.key`]), [0], 'publish');
          expectExit(await timedAgent(agent, ['publish', dist, '--key', `${keys}.key`, '--to', `s3://${SOURCE_BUCKET}/tree-${size}`, '--endpoint', s3.endpoint]), [0], 'publish --to s3');
        };

        await publish();
        const first = { seed: (await seed()).ms, rsync: await syncOnce(rsyncHost), s3: await syncOnce(s3Host) };
        const poll = { seed: [] as number[], rsync: [] as number[], s3: [] as number[] };
        const change = { seed: [] as number[], rsync: [] as number[], s3: [] as number[], floor: [] as number[] };
        for (let rep = 0; rep < Math.min(options.repetitions, 3); rep++) {
          poll.seed.push((await seed()).ms);
          poll.rsync.push(await syncOnce(rsyncHost, 'unchanged'));
          poll.s3.push(await syncOnce(s3Host, 'unchanged'));
          writeFileSync(join(dist, 'data/0/file-0.txt'), `changed in repetition ${rep} of ${size}\n`);
          await publish();
          change.floor.push(await newTreeBeside(rep));
          change.seed.push((await seed()).ms);
          change.rsync.push(await syncOnce(rsyncHost, 'updated'));
          change.s3.push(await syncOnce(s3Host, 'updated'));
        }
        const row = (metric: string, subject: number[], baseline: number[]): Row => ({
          metric: `${size} files: ${metric}`,
          unit: 's',
          baseline: summarize(baseline.map(seconds)),
          subject: summarize(subject.map(seconds)),
          ratio: pairedRatio(subject, baseline),
        });
        rows.push(
          row('first sync, signed rsync (fetch + verify + activate)', [first.rsync], [first.seed]),
          row('first sync, S3 (fetch + verify + activate)', [first.s3], [first.seed]),
          row('unchanged poll, signed rsync', poll.rsync, poll.seed),
          row('unchanged poll, S3 (one GET, 304)', poll.s3, poll.seed),
          row('one file changed, signed rsync', change.rsync, change.seed),
          row('one file changed, S3', change.s3, change.seed),
          row('one file changed, floor: bare `rsync --link-dest` of the tree into a new directory (no Node, no verify)', change.floor, change.seed),
        );
        rmSync(dist, { recursive: true, force: true });
        mkdirSync(dist);
      }
    } finally {
      for (const size of sizes) await closeSshMasters(join(work, `rsync-${size}`, 'state', 'ssh')); // the daemon's clean-up at stop
      await sshd.remove();
      await s3.remove();
      rmSync(work, { recursive: true, force: true });
    }
    return {
      baseline: 'the seed\'s `rsync -az --delete` of the same tree over the same loopback sshd + rrsync, into a copy it keeps',
      subject: 'the agent\'s source stage in process: fetch, verify (signature, serial, every file against the manifest), activate, prune',
      rows,
      notes: [
        'Trees: the sandbox fixture tree plus N small files in directories of 100. Each repetition changes one file and publishes it again (to the rsync dist dir and to S3); publishing is not timed.',
        'The unchanged poll is what must not grow with the tree: the signed rsync poll transfers `.release/` alone (rsync lists only the root directory on the server), the S3 poll is one conditional GET answered 304. The seed\'s rsync walks and compares the whole tree on both sides every time.',
        'A changed release still costs O(tree) work that no design avoids: a new release directory needs one hard link per file (rsync --link-dest, or links from the S3 object cache) and the manifest lists every file. What does not grow with the tree is hashing and transfer: only the changed file is downloaded and hashed (files hard-linked from the active release keep their digests).',
        'The floor row is what any switch between complete trees pays before the agent adds anything: the seed\'s own rsync, writing a new directory beside its copy (one hard link per unchanged file, the changed file sent) instead of updating the copy in place.',
        'The first sync hashes every file once (to verify it against the manifest), which the seed script never did.',
      ],
    };
  },
};

/** The sandbox fixture tree and `size` small files, 100 to a directory. */
function writeTree(dist: string, size: number): void {
  copyTree(FIXTURE_TREE, dist);
  for (let i = 0; i < size; i++) {
    const dir = join(dist, 'data', String(Math.floor(i / 100)));
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file-${i % 100}.txt`), `file ${i} of the scale tree\n`.repeat(4));
  }
}

function hostConfig(work: string, name: string, source: Record<string, unknown>, publicKey: string): Config {
  const dir = join(work, name);
  const yaml = JSON.stringify({
    state_dir: join(dir, 'state'),
    stage_dir: join(dir, 'stage'),
    source: { ...source, timeout: '5m' },
    verify: { public_keys: [publicKey] },
    report: { bucket: 'fleet-reports' },
  });
  return parseConfig(yaml, `${name}.yaml`, () => true);
}

/** One source stage as a run does it; returns its wall time, checking it did what the scenario expects. */
async function syncOnce(config: Config, expect?: FetchedRelease['status']): Promise<number> {
  const paths = statePaths(config);
  const started = performance.now();
  const active = await readActiveRelease(paths);
  // keepConnection: as the daemon's runs do, the rsync source keeps its SSH connection between polls
  const fetched = config.source.type === 's3' ? await fetchS3Release(deps, config, paths, active) : await fetchRsyncRelease(deps, config, paths, active, { keepConnection: true });
  if (fetched.status === 'updated') {
    await activateRelease(paths, fetched.releaseId, deps.log);
    await pruneReleases(paths, undefined, deps.log);
    if (config.source.type === 's3') await pruneCache(paths, deps.log);
  }
  const ms = performance.now() - started;
  if (expect && fetched.status !== expect) throw new Error(`${config.source.type} source: expected ${expect}, got ${fetched.status}`);
  return ms;
}

async function timedAgent(agent: (args: string[]) => ReturnType<typeof execa>, args: string[]) {
  const started = performance.now();
  const result = await agent(args);
  return { ms: performance.now() - started, exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const seconds = (ms: number) => ms / 1000;
