import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';

jest.setTimeout(300_000);
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startS3Server, getText } from '../helpers/s3.js';
import { createFleet, registerAll, SOURCE_BUCKET, SOURCE_PREFIX, type TestFleet } from '../helpers/fleet.js';
import { layFixtureTree, type FixtureTree } from '../helpers/fixture-trees.js';
import { cohortStep } from '../../agent/rollout/cohort.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';
import type { Report } from '../../agent/report/types.js';

/**
 * Progressive rollout on a simulated fleet (SPEC §9): 20 agent hosts, each its own instance_id and
 * state_dir, one S3 source, real puppet, real S3 API on loopback, the controller driven by
 * `agent rollout tick`. Hosts run as the daemon does (`--trigger schedule`): only a host whose
 * release changed applies.
 */
const SIZE = 20;
const CANARIES = new Set([3, 11]);

type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let fleet: TestFleet;
let first: string;

const rolloutDoc = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/rollout.json`)) as RolloutDocument;
const current = async () => JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/current.json`)) as { release_id: string; serial: number; rollout_id?: string };
const activeRelease = (index: number) => basename(readlinkSync(fleet.hosts[index]!.host.stageDir));

/** Every report a host kept locally (state_dir/reports), oldest first: what it ever applied. */
function localReports(index: number): Report[] {
  const dir = join(fleet.hosts[index]!.host.stateDir, 'reports');
  return readdirSync(dir).sort().map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Report);
}

function setTree(tree: FixtureTree, motd: string): void {
  layFixtureTree(fleet.publisher.tree, tree);
  const site = join(fleet.publisher.tree, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/welcome v\d[^\\]*/, motd));
}

/** Rounds of "every host polls, then one tick" until the rollout leaves `running` (or the rounds run out). */
async function driveRollout(maxRounds: number, onRound: (doc: RolloutDocument, reports: Map<string, Report>) => void): Promise<RolloutDocument> {
  for (let round = 0; round < maxRounds; round++) {
    const before = await rolloutDoc();
    const reports = await fleet.runAll();
    onRound(before, reports);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the 1 s bake
    const tick = await fleet.publisher.run(['rollout', 'tick', '--key', fleet.publisher.key]);
    expect(tick.exitCode).toBe(0);
    const after = await rolloutDoc();
    if (after.state !== 'running') return after;
  }
  return rolloutDoc();
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  fleet = await createFleet({ size: SIZE, s3, tree: 'sandbox', roles: (index) => (CANARIES.has(index) ? ['canary', 'web'] : ['web']) });
  await registerAll(fleet);
  expect((await fleet.publisher.run(['publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target])).exitCode).toBe(0);
  first = (await current()).release_id;
  const reports = await fleet.runAll();
  for (const report of reports.values()) expect(report.apply.release_id).toBe(first);
}, 240_000);

afterAll(async () => {
  fleet?.remove();
  await s3?.remove();
});

describe('a good release rolled out 1% → 10% → 50% → 100% over 20 hosts', () => {
  let doc: RolloutDocument;
  let candidate: string;

  it('starts without moving current.json', async () => {
    setTree('sandbox', 'welcome v2');
    const started = await fleet.publisher.run(['rollout', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target, '--steps', '1,10,50,100', '--bake', '1s']);
    expect(started.exitCode).toBe(0);
    doc = await rolloutDoc();
    candidate = doc.candidate.release_id;
    expect(doc).toMatchObject({ state: 'running', step: 0, steps: [1, 10, 50, 100], previous: { release_id: first } });
    expect((await current()).release_id).toBe(first);
  });

  it('each host applies the candidate only once its cohort is exposed, and the rollout completes', async () => {
    const appliedAtStep = new Map<string, number>();
    const final = await driveRollout(12, (before, reports) => {
      for (const [id, report] of reports) {
        if (report.apply.release_id === candidate && !appliedAtStep.has(id)) appliedAtStep.set(id, before.step);
      }
    });
    expect(final.state).toBe('completed');
    expect(appliedAtStep.size).toBe(SIZE);
    for (const member of fleet.hosts) {
      expect(appliedAtStep.get(member.id)).toBeGreaterThanOrEqual(cohortStep(doc, { instance_id: member.id, roles: member.roles }));
    }
    // every step in order, none skipped, each decision with its reason
    const actions = final.history.map((entry) => `${entry.action}@${entry.step}`);
    expect(actions).toEqual(['started@0', 'advanced@1', 'advanced@2', 'advanced@3', 'completed@3']);
    for (const entry of final.history) expect(entry.reason).not.toBe('');
    expect(await current()).toMatchObject({ release_id: candidate });
    expect((await current()).rollout_id).toBeUndefined();
  });

  it('after completion every host stays on the candidate at one conditional GET a poll', async () => {
    const reports = await fleet.runAll();
    for (const report of reports.values()) expect(report.apply.release_id ?? report.source.release_id).toBe(candidate);
    first = candidate;
  });
});

describe('a bad release halted at the canaries', () => {
  let bad: string;
  let final: RolloutDocument;

  it('is aborted after the first step; the canaries rolled back on their own', async () => {
    setTree('sandbox-failing', 'welcome v3 (broken)');
    const started = await fleet.publisher.run([
      'rollout', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target,
      '--canary-role', 'canary', '--steps', '50,100', '--bake', '1s',
    ]);
    expect(started.exitCode).toBe(0);
    bad = (await rolloutDoc()).candidate.release_id;
    final = await driveRollout(3, () => undefined);
    expect(final.state).toBe('aborted');
    expect(final.step).toBe(0);
    expect(final.reason).toMatch(/2 of 2 exposed hosts failed/);
    for (const index of CANARIES) expect(final.reason).toContain(fleet.hosts[index]!.id);
  });

  it('no host outside the first step ever applied it, and the failed hosts are back on previous', async () => {
    await fleet.runAll(); // the poll after the abort
    for (const [index, member] of fleet.hosts.entries()) {
      const touched = localReports(index).filter((report) => report.apply.release_id === bad || report.apply.rolled_back_from === bad);
      if (CANARIES.has(index)) {
        expect(touched.some((report) => report.apply.rolled_back_from === bad)).toBe(true);
      } else {
        expect(touched).toEqual([]);
      }
      expect(activeRelease(index)).toBe(first);
      expect(readFileSync(join(member.host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v2\n');
    }
    expect((await current()).release_id).toBe(first);
  });

  it('rollout status and fleet status say it was aborted and why', async () => {
    const status = await fleet.publisher.run(['rollout', 'status']);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/aborted/);
    expect(status.stdout).toMatch(/2 of 2 exposed hosts failed/);
    const json = JSON.parse((await fleet.publisher.run(['rollout', 'status', '--json'])).stdout) as { rollout: RolloutDocument };
    expect(json.rollout).toMatchObject({ state: 'aborted', rollout_id: final.rollout_id });
    const fleetStatus = await fleet.publisher.run(['fleet', 'status']);
    expect(fleetStatus.stdout).toMatch(new RegExp(`rollout ${final.rollout_id} aborted, step 1/3 \\(0%\\), release ${bad.slice(0, 12)}: 0 exposed, 0 updated, \\d+ failed`));
  });
});
