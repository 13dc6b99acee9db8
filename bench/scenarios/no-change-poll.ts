/**
 * Item 1: what a poll costs when nothing changed. Baseline: the seed's cron script (rsync + puppet apply,
 * which applies every time). Agent: `agent run-now --trigger schedule --no-wait`, exactly the child the
 * daemon starts at each tick, on a host whose release is applied and unchanged: it polls and skips Puppet.
 * Both sources: rsync over the same sshd as the seed script, and S3 (one conditional GET of current.json).
 */
import { mkdtempSync, mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { BUCKET, publishToS3, startRig, type BenchSource } from '../lib/rig.js';
import { bundleLikeTheAgent } from '../lib/bundle.js';
import { pollArgs } from '../../agent/source/rsync-args.js';
import { RUN_PERSIST_S } from '../../agent/source/ssh-control.js';
import { runSeedScript } from '../lib/seed-script.js';
import { daemonChildEnv } from '../lib/agent-host.js';
import { expectExit, timed } from '../lib/timed.js';
import { reportOf } from '../lib/report-json.js';
import { stageTimes } from '../lib/progress-lines.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Scenario } from '../scenario.js';

const TARGET = { on: 'ratio' as const, max: 0.1, source: 'issue #8' };

export const noChangePoll: Scenario = {
  name: 'no-change-poll',
  title: '1. No-change poll',
  async run(options) {
    const rig = await startRig({ countBytes: true });
    const seedDir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
    try {
      const host = rig.host('i-0bench0000000poll');
      const seedEnv = { FACTER_sandbox: join(seedDir, 'sandbox') };
      mkdirSync(seedEnv.FACTER_sandbox);
      const s3Host = rig.host('i-0bench000000s3poll', (await publishToS3(rig, seedDir))(rig.s3.endpoint));
      // both sides start from an applied, unchanged tree
      expectExit(await host.run(['run-now']), [2], 'first agent run');
      expectExit(await s3Host.run(['run-now']), [2], 'first agent run, S3 source');
      await runSeedScript(rig.source, seedDir, seedEnv);
      const floor = await floorCommands(rig.source, host, seedDir, async () => {
        const head = await rig.s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'source/current.json' }));
        return { endpoint: rig.s3.endpoint, env: s3Host.env, etag: head.ETag ?? '' };
      });
      const floors = { node: [] as number[], rsync: [] as number[], s3: [] as number[] };
      const seed = { ms: [] as number[], wire: [] as number[], bytes: [] as number[] };
      const agent = { ms: [] as number[], wire: [] as number[], bytes: [] as number[], inProcess: [] as number[], poll: [] as number[] };
      const viaS3 = { ms: [] as number[], poll: [] as number[] };
      for (let rep = 0; rep < options.repetitions; rep++) {
        rig.source.takeBytes();
        const baseline = await runSeedScript(rig.source, seedDir, seedEnv);
        seed.wire.push(rig.source.takeBytes().received);
        const run = expectExit(await host.run(['run-now', '--trigger', 'schedule', '--no-wait', '--json'], daemonChildEnv(host)), [0], 'scheduled poll');
        const report = reportOf(run, 'scheduled poll');
        if (report.apply.status !== 'skipped' || report.source.status !== 'unchanged') {
          throw new Error(`scheduled poll: expected source unchanged and apply skipped, got ${report.source.status} / ${report.apply.status}`);
        }
        agent.wire.push(rig.source.takeBytes().received);
        seed.ms.push(baseline.ms);
        seed.bytes.push(baseline.bytesReceived);
        agent.ms.push(run.ms);
        agent.bytes.push(report.source.bytes_transferred);
        agent.inProcess.push(report.duration_ms);
        agent.poll.push(stageTimes(run.stderr).poll ?? report.duration_ms);
        const s3Run = expectExit(await s3Host.run(['run-now', '--trigger', 'schedule', '--no-wait', '--json'], daemonChildEnv(s3Host)), [0], 'scheduled poll, S3 source');
        if (reportOf(s3Run, 'scheduled poll, S3 source').source.status !== 'unchanged') throw new Error('scheduled poll, S3 source: expected source unchanged');
        viaS3.ms.push(s3Run.ms);
        viaS3.poll.push(stageTimes(s3Run.stderr).poll ?? 0);
        floors.node.push(expectExit(await floor.node(), [0], 'bare node').ms);
        floors.rsync.push(expectExit(await floor.rsync(), [0], 'bare rsync poll').ms);
        floors.s3.push(expectExit(await floor.s3(), [0], 'bare conditional GET').ms);
        options.log(`  rep ${rep + 1}: seed ${(baseline.ms / 1000).toFixed(2)} s, agent ${(run.ms / 1000).toFixed(2)} s, agent (S3 source) ${(s3Run.ms / 1000).toFixed(2)} s`);
      }
      return {
        baseline: 'the seed script `rsync -az --delete` + `puppet apply` (Puppet 7 flags), unchanged tree, over the same loopback sshd + rrsync',
        subject: '`agent run-now --trigger schedule --no-wait` with the daemon\'s environment (its per-tick child, config snapshot included) on an applied, unchanged release: poll, Puppet skipped',
        rows: [
          { metric: 'wall time per poll', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(agent.ms.map(s)), ratio: pairedRatio(agent.ms, seed.ms), target: TARGET },
          { metric: 'bytes received per poll, on the wire (SSH included)', unit: 'B', baseline: summarize(seed.wire), subject: summarize(agent.wire), ratio: pairedRatio(agent.wire, seed.wire), target: TARGET },
          { metric: 'bytes received per poll, rsync\'s count (agent: its report)', unit: 'B', baseline: summarize(seed.bytes), subject: summarize(agent.bytes), ratio: pairedRatio(agent.bytes, seed.bytes) },
          { metric: 'agent run inside its process (report duration_ms)', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(agent.inProcess.map(s)), ratio: pairedRatio(agent.inProcess, seed.ms) },
          { metric: 'agent poll stage alone', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(agent.poll.map(s)), ratio: pairedRatio(agent.poll, seed.ms) },
          { metric: 'S3 source: wall time per poll', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(viaS3.ms.map(s)), ratio: pairedRatio(viaS3.ms, seed.ms), target: TARGET },
          { metric: 'S3 source: poll stage alone (one conditional GET)', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(viaS3.poll.map(s)), ratio: pairedRatio(viaS3.poll, seed.ms) },
          { metric: 'floor: bare Node start-up (`node -e 0`)', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(floors.node.map(s)), ratio: pairedRatio(floors.node, seed.ms) },
          { metric: 'floor: the agent\'s poll command alone (its rsync dry run on the kept connection, no Node)', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(floors.rsync.map(s)), ratio: pairedRatio(floors.rsync, seed.ms) },
          { metric: 'floor, rsync source: Node start-up + that poll command', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(sums(floors.node, floors.rsync).map(s)), ratio: pairedRatio(sums(floors.node, floors.rsync), seed.ms) },
          { metric: 'floor, S3 source: a bundled Node script that loads the SDK and sends the conditional GET (304)', unit: 's', baseline: summarize(seed.ms.map(s)), subject: summarize(floors.s3.map(s)), ratio: pairedRatio(floors.s3, seed.ms) },
        ],
        notes: [
          'Both sides measured alternately in the same loop. Wire bytes are counted by a loopback relay in front of sshd (server → client, SSH handshake and framing included), the same way for both; the second bytes row is rsync\'s "Total bytes received" for the seed script and the report\'s source.bytes_transferred for the agent.',
          'Wire bytes count every ssh connection the poll opens (the SSH handshake is most of a no-change poll\'s bytes): a poll that opens two connections (e.g. fetching `.release/` first, then a dry run for a plain tree) costs about twice the seed script\'s one. The time saved is Puppet not running.',
          'The fixture tree is plain (no `.release/`): the poll takes the path a tree published without `agent publish` takes.',
          'Wall time of the agent includes starting Node and loading its modules (what every tick pays, since the daemon starts one child per run).',
          'Floor rows: what any process started per tick must pay, measured in the same loop. Node start-up plus the agent\'s own rsync dry run (the exact argv, on the connection the agent keeps open; most of it is the server starting its forced command, rrsync) is the least an rsync poll in a child can cost; for S3, Node plus the SDK\'s load plus the GET, bundled as the agent is (bench/baselines/s3-conditional-get.ts). Everything above a floor is the agent\'s own work (config validation, lock, state, report).',
          'S3 rows: the same tree published with `agent publish --to s3://` to the loopback S3 server, polled by a second agent host with `source.type: s3` and the publisher\'s key in verify.public_keys; the baseline column is the same seed-script runs.',
        ],
      };
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
      await rig.remove();
    }
  },
};

const s = (ms: number) => ms / 1000;

const sums = (a: number[], b: number[]) => a.map((value, index) => value + (b[index] ?? 0));

/**
 * The floors (see the notes): bare Node, the agent's poll command without the agent, the least S3 poll.
 * The rsync floor joins the connection the agent's scheduled polls keep open, so it runs after one.
 */
async function floorCommands(source: BenchSource, host: { stateDir: string; dir: string }, work: string, s3: () => Promise<{ endpoint: string; env: Record<string, string>; etag: string }>) {
  const endpoint = { url: source.url, port: source.port, ssh_key: source.clientKey, known_hosts: source.knownHosts };
  const keptSocket = () => {
    const name = readdirSync(join(host.stateDir, 'ssh')).find((entry) => entry.startsWith('cm-'));
    if (!name) throw new Error('bare rsync poll: the agent keeps no SSH connection open (no cm-* socket in state_dir/ssh)');
    return join(host.stateDir, 'ssh', name);
  };
  const getScript = await bundleLikeTheAgent('bench/baselines/s3-conditional-get.ts', mkdtempSync(join(work, 'floor-')));
  const s3Target = await s3();
  return {
    node: () => timed(process.execPath, ['-e', '0']),
    rsync: () => timed('rsync', pollArgs(endpoint, realpathSync(join(host.dir, 'puppetstage')), { path: keptSocket(), persistSeconds: RUN_PERSIST_S })),
    s3: () => timed(process.execPath, [getScript, s3Target.endpoint, BUCKET, 'source/current.json', s3Target.etag], { env: s3Target.env }),
  };
}
