/**
 * Issue #14: what a host pays to answer a plan, against what it pays for the noop it could run
 * instead. Baseline: `agent run-now --noop` of the active release (poll answered 304, Puppet --noop,
 * the report to S3). Agent: `agent run-now --plan PLAN_ID` on the same host (the plan fetched and
 * verified, the candidate beside the active release, Puppet --noop --show_diff, the answer to S3).
 * The candidate differs from the active release by one file (the motd line), so both find one change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET, changeTree, publishToS3, startRig } from '../lib/rig.js';
import { expectExit, timed } from '../lib/timed.js';
import { AGENT_BIN } from '../lib/paths.js';
import { pairedRatio, summarize, single } from '../stats.js';
import type { Scenario } from '../scenario.js';

export const planCost: Scenario = {
  name: 'plan-cost',
  title: '8. Plan: a plan run on a host vs a normal noop run',
  async run(options) {
    const rig = await startRig();
    const work = mkdtempSync(join(tmpdir(), 'bench-plan-'));
    try {
      const s3Config = await publishToS3(rig, work);
      const host = rig.host('i-0bench0000000plan', s3Config(rig.s3.endpoint));
      expectExit(await host.run(['run-now']), [2], 'first agent run');
      changeTree(rig.source.distDir, `planned ${Date.now()}`);
      const started = expectExit(
        await timed(process.execPath, [AGENT_BIN, 'plan', 'start', rig.source.distDir, '--key', join(work, 'release.key'), '--to', `s3://${BUCKET}/source`, '--endpoint', rig.s3.endpoint], { env: rig.s3.env }),
        [0],
        'plan start',
      );
      const planId = started.stdout.trim();
      const first = expectExit(await host.run(['run-now', '--plan', planId, '--json']), [2], 'first plan run');
      const noop: number[] = [];
      const plan: number[] = [];
      for (let rep = 0; rep < options.repetitions; rep++) {
        const runNoop = async () => noop.push(expectExit(await host.run(['run-now', '--noop', '--json']), [0, 2], 'run-now --noop').ms);
        const runPlan = async () => plan.push(expectExit(await host.run(['run-now', '--plan', planId, '--json']), [2], 'run-now --plan').ms);
        if (rep % 2 === 0) {
          await runNoop();
          await runPlan();
        } else {
          await runPlan();
          await runNoop();
        }
        options.log(`  rep ${rep + 1}: noop ${(noop[rep]! / 1000).toFixed(2)} s, plan ${(plan[rep]! / 1000).toFixed(2)} s`);
      }
      const seconds = (samples: number[]) => summarize(samples.map((ms) => ms / 1000));
      return {
        baseline: '`agent run-now --noop` of the active release (S3 source, poll answered 304, report uploaded)',
        subject: '`agent run-now --plan PLAN_ID`: plan fetched and verified, candidate staged beside the active release, `puppet apply --noop --show_diff`, answer uploaded',
        rows: [
          { metric: 'wall time per run (candidate already staged)', unit: 's', baseline: seconds(noop), subject: seconds(plan), ratio: pairedRatio(plan, noop), target: { on: 'ratio', max: 1.2, source: 'issue #14' } },
          { metric: 'first plan run on the host (downloads and verifies the candidate)', unit: 's', subject: single(first.ms / 1000) },
        ],
        notes: [
          'Same host, same tree apart from one line; repetitions alternate which run goes first. The first plan run also stages the candidate (one changed object downloaded, the rest hard-linked from the object cache, every file verified); later runs reuse the staged tree while the plan is open.',
        ],
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
      await rig.remove();
    }
  },
};
