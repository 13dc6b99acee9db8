import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startS3Server, listKeys, getText } from '../helpers/s3.js';
import { createFleet, registerAll, SOURCE_BUCKET, SOURCE_PREFIX, type TestFleet, type FleetHost } from '../helpers/fleet.js';
import { layFixtureTree } from '../helpers/fixture-trees.js';
import type { PlanReport } from '../../agent/plan/report.js';
import type { PlanView } from '../../agent/plan/aggregate.js';

jest.setTimeout(300_000);

/**
 * SPEC §10 end to end: four agent hosts (web, web, db, app) on one loopback S3 server, a Hiera/role-
 * dependent tree, real Puppet. The plan shows different changes per role, a file diff, a compile error
 * on db and a resource that would fail on app, and the local edit one web host made; no host changes.
 */
const ROLES = [['web'], ['web'], ['db'], ['app'], ['web']];
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let fleet: TestFleet;
let planId: string;
let v1: { release_id: string; serial: number };
let web1: FleetHost, web2: FleetHost, db: FleetHost, app: FleetHost, silent: FleetHost;
const answers = new Map<string, { exitCode: number; report: PlanReport | null; stderr: string }>();

const sourceText = (key: string) => getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/${key}`);
const planReport = async (host: FleetHost) => JSON.parse(await getText(s3.client, 'fleet-reports', `plans/${planId}/${host.id}.json`)) as PlanReport;
const show = (...args: string[]) => fleet.publisher.run(['plan', 'show', ...args]);

/** Every file of a host outside its state_dir (sandbox, stage_dir link), with its bytes and mode. */
function snapshot(host: FleetHost): Record<string, string> {
  const out: Record<string, string> = { stage_dir: readlinkSync(host.host.stageDir) };
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stats = statSync(path);
      if (stats.isDirectory()) walk(path);
      else out[path] = `${(stats.mode & 0o7777).toString(8)} ${readFileSync(path, 'base64')}`;
    }
  };
  walk(host.host.sandbox);
  // status.json is left out: the scheduled run around a plan writes it, as every run does
  for (const file of ['drift-state.json', 'puppet/last_run_report.yaml']) out[file] = readFileSync(join(host.host.stateDir, file), 'base64');
  out.releases = readdirSync(join(host.host.stateDir, 'releases')).sort().join(',');
  return out;
}

async function planRunNow(host: FleetHost, ...args: string[]) {
  const result = await host.host.run(['run-now', '--plan', planId, '--json', ...args]);
  let report: PlanReport | null = null;
  try {
    report = JSON.parse(result.stdout) as PlanReport;
  } catch {
    // no answer printed: the exit code and stderr say why
  }
  return { exitCode: result.exitCode, report, stderr: result.stderr };
}

let before: Map<string, Record<string, string>>;

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  fleet = await createFleet({ size: ROLES.length, s3, tree: 'plan', roles: (index) => ROLES[index]! });
  [web1, web2, db, app, silent] = fleet.hosts as [FleetHost, FleetHost, FleetHost, FleetHost, FleetHost];
  for (const member of fleet.hosts) member.host.writeConfig({ puppet: { hiera_config: 'hiera.yaml' }, report: { redact: ['server_name \\S+'] } });
  expect((await fleet.publisher.run(['publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target])).exitCode).toBe(0);
  v1 = JSON.parse(await sourceText('current.json'));
  await registerAll(fleet);
  for (const member of [web1, web2, db, app]) expect((await member.runNow()).exitCode).toBe(2);
  writeFileSync(join(web2.host.sandbox, 'managed/motd'), 'edited by hand on web-2\n'); // real host state differs
  before = new Map([web1, web2, db, app].map((member) => [member.id, snapshot(member)]));

  layFixtureTree(fleet.publisher.tree, 'plan-v2');
  const started = await fleet.publisher.run(['plan', 'start', fleet.publisher.tree, '--key', fleet.publisher.key]);
  expect(started.exitCode).toBe(0);
  planId = started.stdout.trim();
  // two hosts answer at their scheduled poll (the daemon's path), two on demand
  for (const member of [web1, db]) {
    const scheduled = await member.runNow(['--trigger', 'schedule']);
    answers.set(member.id, { exitCode: scheduled.exitCode, report: null, stderr: scheduled.stderr });
  }
  for (const member of [web2, app]) answers.set(member.id, await planRunNow(member));
}, 300_000);

afterAll(async () => {
  fleet?.remove();
  await s3?.remove();
});

describe('agent plan start', () => {
  it('prints the plan id, writes the signed plan and plans/current.json, and leaves current.json alone', async () => {
    expect(planId).toMatch(/^p-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(JSON.parse(await sourceText('current.json'))).toEqual(v1);
    const keys = await listKeys(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/`);
    expect(keys).toEqual(expect.arrayContaining([`${SOURCE_PREFIX}/plans/${planId}.json`, `${SOURCE_PREFIX}/plans/${planId}.sig`, `${SOURCE_PREFIX}/plans/current.json`]));
    expect(keys).not.toContain(`${SOURCE_PREFIX}/rollout.json`);
    const plan = JSON.parse(await sourceText(`plans/${planId}.json`));
    expect(plan).toMatchObject({ schema: 'agent.plan/v1', plan_id: planId, roles: [], sample: null });
    expect(plan.candidate.serial).toBeGreaterThan(v1.serial); // publish serials: at least the time in seconds
    expect(Date.parse(plan.expires_at) - Date.parse(plan.created_at)).toBe(3_600_000);
    expect(keys).toContain(`${SOURCE_PREFIX}/releases/${plan.candidate.release_id}.json`);
  });
});

describe('hosts answering a plan', () => {
  it('changes nothing on any host: files, stage_dir, releases, Puppet and drift state byte-identical', () => {
    for (const member of [web1, web2, db, app]) expect(snapshot(member)).toEqual(before.get(member.id));
  });

  it('a scheduled run answers the open plan after its own run, which stays on the active release', async () => {
    const report = await planReport(web1);
    expect(report).toMatchObject({ schema: 'agent.plan-report/v1', plan_id: planId, active_release_id: v1.release_id, roles: ['web'], result: 'changes', exit_code: 2 });
    expect(basename(readlinkSync(web1.host.stageDir))).toBe(v1.release_id);
    // the candidate sits beside the active release, outside releases/ (never activated, never pruned)
    expect(readdirSync(join(web1.host.stateDir, 'plans/trees'))).toEqual([report.candidate_release_id]);
    expect(answers.get(web1.id)!.stderr).toMatch(/plan +.*2 resources would change/);
  });

  it('shows the property, current and desired value, and the file diff with report.redact applied', async () => {
    const report = await planReport(web1);
    const vhost = report.changes.find((change) => change.resource === 'File[vhost]')!;
    expect(vhost.events[0]).toMatchObject({ property: 'content', current: expect.stringMatching(/^\{sha256\}/), desired: expect.stringMatching(/^\{sha256\}/) });
    expect(vhost.diff!.lines).toEqual(['--- current', '+++ planned', '@@ -1,2 +1,3 @@', ' listen 80', ' [redacted]', '+gzip on']);
    const motd = report.changes.find((change) => change.resource === 'File[motd]')!;
    expect(motd.diff!.lines).toEqual(expect.arrayContaining(['-welcome v1', '+welcome v2']));
  });

  it('reflects the real host state: the web host whose motd was edited by hand shows that edit', async () => {
    const { exitCode, report } = answers.get(web2.id)!;
    expect(exitCode).toBe(2);
    const motd = report!.changes.find((change) => change.resource === 'File[motd]')!;
    expect(motd.diff!.lines).toEqual(expect.arrayContaining(['-edited by hand on web-2', '+welcome v2']));
    expect(await planReport(web2)).toEqual(report);
  });

  it('the db host reports the compile error of its broken lookup (exit 0 from its own run, failed answer)', async () => {
    expect(answers.get(db.id)!.exitCode).toBe(0); // the scheduled run itself had nothing to do
    const report = await planReport(db);
    expect(report).toMatchObject({ result: 'failed', exit_code: 4, changes: [] });
    expect(report.compile_errors.join('\n')).toMatch(/plan_fixture::db_port/);
    expect(report.compile_errors.join('\n')).not.toContain(db.host.stateDir); // paths are the release's, so hosts agree
  });

  it('the app host reports the resource that would fail, and exits 4 from run-now --plan', async () => {
    const { exitCode, report } = answers.get(app.id)!;
    expect(exitCode).toBe(4);
    expect(report!.failures).toEqual([{ resource: 'File[app-plugin]', message: expect.stringMatching(/Could not retrieve information from .*\/nonexistent\/agent-plan-fixture\/plugin\.conf/) }]);
    expect(report!.changes.map((change) => change.resource)).toEqual(['File[motd]']);
  });

  it('answers an open plan once: the next scheduled poll does not noop it again', async () => {
    const first = await planReport(web1);
    const again = await web1.runNow(['--trigger', 'schedule']);
    expect(again.stderr).not.toMatch(/plan +/);
    expect((await planReport(web1)).run_id).toBe(first.run_id);
  });
});

describe('agent plan show', () => {
  it('aggregates per resource: hosts, roles, one representative diff, and the variants', async () => {
    const result = await show('--json');
    expect(result.exitCode).toBe(4);
    const view = JSON.parse(result.stdout) as PlanView;
    const motd = view.resources.find((row) => row.resource === 'File[motd]')!;
    expect(motd).toMatchObject({ hosts: [web1.id, web2.id, app.id].sort(), roles: ['app', 'web'], variants: 2, representative_hosts: 2 });
    expect(motd.representative.diff!.lines).toContain('-welcome v1');
    expect(view.resources.find((row) => row.resource === 'File[vhost]')).toMatchObject({ hosts: [web1.id, web2.id], roles: ['web'], variants: 1 });
    expect(view.failures.map((failure) => [failure.resource, failure.hosts, failure.roles])).toEqual(
      expect.arrayContaining([[null, [db.id], ['db']], ['File[app-plugin]', [app.id], ['app']]]),
    );
    expect(view.counts).toEqual({ unchanged: 0, changes: 2, failed: 2, unanswered: 1 });
    expect(view.hosts.find((host) => host.instance_id === silent.id)).toMatchObject({ result: 'unanswered' });
  });

  it('reads well piped: plain diff, failures with their hosts, hosts not answered, the verdict', async () => {
    const { stdout, exitCode } = await show(planId);
    expect(exitCode).toBe(4);
    expect(stdout).not.toContain('\x1b[');
    expect(stdout).toMatch(new RegExp(`^plan ${planId}: release [0-9a-f]{12} \\(serial \\d+\\) on every host; expires `));
    expect(stdout).toMatch(/answered 4 of 5 hosts in scope: 2 would change, 2 would fail, 0 unchanged/);
    expect(stdout).toMatch(/ {2}File\[motd\] {2}3 hosts, roles app, web\n {4}content: \{sha256\}\w+ -> \{sha256\}\w+\n {4}--- current\n {4}\+\+\+ planned\n/);
    expect(stdout).toMatch(/\(2 different changes: 2 of 3 hosts as shown; --by host for each\)/);
    expect(stdout).toMatch(/plan_fixture::db_port[^\n]*\n {4}1 host \(roles db\): i-/);
    expect(stdout).toContain(`not answered (1): ${silent.id}`);
    expect(stdout).toMatch(/FAILURES: do not roll this out as it is \(exit 4\)$/); // execa drops the last newline
  });

  it('--by role and --by host', async () => {
    const byRole = (await show('--by', 'role')).stdout;
    expect(byRole).toMatch(/role web: 2 answered, 1 not yet, 0 would fail\n {2}File\[motd\] {2}2 hosts\n {2}File\[vhost\] {2}2 hosts/);
    expect(byRole).toMatch(/role db: 1 answered, 0 not yet, 1 would fail\n {2}nothing would change/);
    const byHost = (await show('--by', 'host')).stdout;
    expect(byHost).toContain(`${app.id}  failed  roles app`);
    expect(byHost).toMatch(/would fail: Could not retrieve information from environment production source/);
    expect(byHost).toContain("would fail: Function lookup() did not find a value for the name 'plan_fixture::db_port'");
    expect(byHost).toContain(`${silent.id}  unanswered  roles web`);
  });
});

describe('agent rollout start --plan', () => {
  it('rolls out exactly the planned release', async () => {
    const plan = JSON.parse(await sourceText(`plans/${planId}.json`));
    const result = await fleet.publisher.run(['rollout', 'start', '--plan', planId, '--key', fleet.publisher.key, '--steps', '50,100']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`as planned by ${planId}`);
    const rollout = JSON.parse(await sourceText('rollout.json'));
    expect(rollout.candidate).toEqual(plan.candidate);
    expect(rollout.previous).toEqual(v1);
  });
});
