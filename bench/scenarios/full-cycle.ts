/**
 * Item 2: what the agent adds around the work of a run that has something to do. Each repetition makes
 * one real change to the tree (the motd line: one file synced, one resource changed); the baseline is
 * bare `rsync -az --delete && puppet apply --detailed-exitcodes`, the agent is `agent run-now`, which
 * also polls, hard-links and hashes the release, activates it, parses Puppet's report and uploads it to S3.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changeTree, startRig } from '../lib/rig.js';
import { runSeedScript } from '../lib/seed-script.js';
import { daemonChildEnv } from '../lib/agent-host.js';
import { expectExit } from '../lib/timed.js';
import { reportOf } from '../lib/report-json.js';
import { stageTimes, type StageTimes } from '../lib/progress-lines.js';
import { pairedRatio, summarize } from '../stats.js';
import type { Row, Scenario } from '../scenario.js';

const STAGES = ['lock', 'poll', 'stage', 'activate', 'apply', 'report'] as const;

export const fullCycle: Scenario = {
  name: 'full-cycle',
  title: '2. Full cycle with one change',
  async run(options) {
    const rig = await startRig();
    const seedDir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
    try {
      const host = rig.host('i-0bench00000000full');
      const tickHost = rig.host('i-0bench0000000tick');
      const seedEnv = { FACTER_sandbox: join(seedDir, 'sandbox') };
      mkdirSync(seedEnv.FACTER_sandbox);
      expectExit(await host.run(['run-now']), [2], 'first agent run');
      expectExit(await tickHost.run(['run-now']), [2], 'first agent run, tick host');
      await runSeedScript(rig.source, seedDir, seedEnv);
      const bare = { ms: [] as number[], rsync: [] as number[], puppet: [] as number[] };
      const agent = { ms: [] as number[], stages: [] as StageTimes[] };
      const tick = { ms: [] as number[] };
      for (let rep = 0; rep < options.repetitions; rep++) {
        changeTree(rig.source.distDir, `rep ${rep} ${Date.now()}`);
        // alternate who goes first, so neither always meets a warm or a cold cache
        const runBare = async () => {
          const run = await runSeedScript(rig.source, seedDir, seedEnv);
          if (run.puppetExit !== 2) throw new Error(`bare puppet apply: expected exit 2 (changed), got ${run.puppetExit}`);
          bare.ms.push(run.ms);
          bare.rsync.push(run.rsyncMs);
          bare.puppet.push(run.puppetMs);
        };
        const runAgent = async () => {
          const run = expectExit(await host.run(['run-now', '--json']), [2], 'agent run-now');
          const report = reportOf(run, 'agent run-now');
          if (report.source.status !== 'updated') throw new Error(`agent run-now: expected source updated, got ${report.source.status}`);
          agent.ms.push(run.ms);
          agent.stages.push(stageTimes(run.stderr));
        };
        // the daemon's own tick on a second host: the child it starts, with its environment
        const runTick = async () => {
          const run = expectExit(await tickHost.run(['run-now', '--trigger', 'schedule', '--no-wait', '--json'], daemonChildEnv(tickHost)), [2], 'scheduled run');
          if (reportOf(run, 'scheduled run').source.status !== 'updated') throw new Error('scheduled run: expected source updated');
          tick.ms.push(run.ms);
        };
        const order = [runBare, runAgent, runTick];
        for (let i = 0; i < order.length; i++) await order[(i + rep) % order.length]!();
        options.log(`  rep ${rep + 1}: bare ${(bare.ms[rep]! / 1000).toFixed(2)} s, agent ${(agent.ms[rep]! / 1000).toFixed(2)} s`);
      }
      const stage = (name: (typeof STAGES)[number]) => agent.stages.map((times) => times[name] ?? 0);
      const staged = agent.stages.map((times) => STAGES.reduce((sum, name) => sum + (times[name] ?? 0), 0));
      const outside = agent.ms.map((ms, index) => ms - staged[index]!);
      const sourceSide = agent.stages.map((times) => (times.poll ?? 0) + (times.stage ?? 0) + (times.activate ?? 0));
      const rows: Row[] = [
        { metric: 'wall time per run, the daemon\'s tick (the child it starts: config snapshot, kept SSH connection)', unit: 's', baseline: seconds(bare.ms), subject: seconds(tick.ms), ratio: pairedRatio(tick.ms, bare.ms), target: TARGET },
        { metric: 'wall time per run, `agent run-now` from a shell', unit: 's', baseline: seconds(bare.ms), subject: seconds(agent.ms), ratio: pairedRatio(agent.ms, bare.ms), target: TARGET },
        { metric: 'source: bare rsync vs agent poll + stage + verify + activate', unit: 's', baseline: seconds(bare.rsync), subject: seconds(sourceSide), ratio: pairedRatio(sourceSide, bare.rsync) },
        { metric: 'apply: bare puppet apply vs agent apply stage', unit: 's', baseline: seconds(bare.puppet), subject: seconds(stage('apply')), ratio: pairedRatio(stage('apply'), bare.puppet) },
        ...STAGES.filter((name) => name !== 'apply').map((name): Row => ({ metric: `agent stage: ${name}`, unit: 's', subject: seconds(stage(name)) })),
        { metric: 'agent outside its stages (Node start-up, config, identity, status.json)', unit: 's', subject: seconds(outside) },
      ];
      return {
        baseline: 'bare `rsync -az --delete` && `puppet apply --detailed-exitcodes` (same flags and state isolation as the agent), one file changed',
        subject: 'the daemon\'s tick (`run-now --trigger schedule` with the daemon\'s environment) and `agent run-now` from a shell, each on its own host: poll, stage (--link-dest), verify, activate, apply, report to the loopback S3',
        rows,
        notes: [
          'The three runs of a repetition go in turns (bare, shell, tick; then shell, tick, bare; ...), so none always meets a warm or a cold cache. The stage rows are the shell run\'s.',
          'Stage times come from run-now\'s progress lines on stderr; a stage that did not run shows 0 (the poll line is replaced by the stage line when the release changed, so "poll" then counts in "stage").',
          'The agent\'s extra cost is its own ssh connection for the poll (a dry run before the copy), Node start-up, hashing the release and the S3 upload.',
        ],
      };
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
      await rig.remove();
    }
  },
};

const TARGET = { on: 'ratio' as const, max: 1.1, source: 'issue #8' };


const seconds = (samples: number[]) => summarize(samples.map((ms) => ms / 1000));
