import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server, listKeys, getText } from '../helpers/s3.js';
import { AGENT_BIN } from '../helpers/agent-host.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { createFleet, SOURCE_BUCKET, SOURCE_PREFIX, type TestFleet, type FleetHost } from '../helpers/fleet.js';
import type { PlanReport } from '../../agent/plan/report.js';

jest.setTimeout(180_000);

/**
 * SPEC §10 refusals and settings against a real S3 API and a real host: usage errors exit 64 and write
 * nothing; an unknown, unsigned, tampered or expired plan, a candidate missing from the bucket, a key
 * that is not the publisher's: clear messages, exit 1 (or a failed answer), nothing applied.
 */
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let proxy: S3Proxy;
let fleet: TestFleet;
let host: FleetHost;
let active: string;

const run = (...args: string[]) => fleet.publisher.run(args);
const sourceKeys = () => listKeys(s3.client, SOURCE_BUCKET, '');
const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${SOURCE_PREFIX}/${key}`, Body: body }));
const remove = (key: string) => s3.client.send(new DeleteObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${SOURCE_PREFIX}/${key}` }));
const answerKeys = (planId: string) => listKeys(s3.client, 'fleet-reports', `plans/${planId}/`);
const bump = (motd: string) => {
  const site = join(fleet.publisher.tree, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace(/welcome [^\\]*\\n/, `${motd}\\n`));
};
async function startPlan(...flags: string[]): Promise<string> {
  const result = await run('plan', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, ...flags);
  expect(result.exitCode).toBe(0);
  return result.stdout.trim();
}
const planNow = (planId: string, ...args: string[]) => host.host.run(['run-now', '--plan', planId, ...args]);
const stageTarget = () => readlinkSync(host.host.stageDir);

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', SOURCE_BUCKET] });
  proxy = await startS3Proxy({ port: s3.port });
  fleet = await createFleet({ size: 1, s3, tree: 'sandbox', sourceEndpoint: proxy.endpoint });
  host = fleet.hosts[0]!;
  expect((await run('publish', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', fleet.publisher.target)).exitCode).toBe(0);
  expect((await host.runNow()).exitCode).toBe(2);
  active = stageTarget();
  bump('welcome v2');
}, 120_000);

afterAll(async () => {
  fleet?.remove();
  await proxy?.stop();
  await s3?.remove();
});

describe('usage errors exit 64 and write nothing', () => {
  it.each([
    [['plan', 'start', 'TREE'], /--key FILE is required for plan start/],
    [['plan', 'start', 'TREE', '--key', 'KEY', '--sample', '0'], /--sample: expected a percent of the hosts in scope, 1-100/],
    [['plan', 'start', 'TREE', '--key', 'KEY', '--sample', '150%'], /--sample: expected a percent/],
    [['plan', 'start', 'TREE', '--key', 'KEY', '--expires', 'soon'], /--expires: expected a duration/],
    [['plan', 'start', 'TREE', '--key', 'KEY', '--role', 'web,'], /--role: expected role names separated by commas/],
    [['plan', 'show', '--by', 'tree'], /--by: expected resource, role or host, got "tree"/],
    [['plan', 'show', 'no/such'], /PLAN_ID: expected an id like p-/],
    [['plan', 'apply'], /unknown plan subcommand "apply"/],
    [['plan'], /wrong number of arguments/],
    [['run-now', '--plan', 'p-1', '--noop'], /--plan is a noop already/],
    [['run-now', '--plan', 'bad id!'], /--plan: expected a plan id/],
    [['fleet', 'status', '--plan', 'p-1'], /--plan goes with fleet run-now only/],
    [['rollout', 'start', 'TREE', '--plan', 'p-1', '--key', 'KEY'], /not both/],
  ])('%j', async (args, message) => {
    const before = await sourceKeys();
    const argv = (args as string[]).map((arg) => (arg === 'TREE' ? fleet.publisher.tree : arg === 'KEY' ? fleet.publisher.key : arg));
    const result = await run(...argv);
    expect(result.exitCode).toBe(64);
    expect(result.stderr).toMatch(message as RegExp);
    expect(await sourceKeys()).toEqual(before);
  });
});

describe('agent plan start refusals (exit 1, nothing written)', () => {
  it('an rsync target', async () => {
    const result = await run('plan', 'start', fleet.publisher.tree, '--key', fleet.publisher.key, '--to', '/srv/puppetdist');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/a plan needs the S3 source/);
  });

  it('a RELEASE_ID that is not in the bucket', async () => {
    const before = await sourceKeys();
    const result = await run('plan', 'start', 'ab'.repeat(32), '--key', fleet.publisher.key);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/release abababababab is not in s3:\/\/releases\/puppet\/releases\/: plan its tree \(DIR\) instead/);
    expect(await sourceKeys()).toEqual(before);
  });

  it("a key that is not the publisher's", async () => {
    const other = join(host.host.dir, 'other');
    await execa(process.execPath, [AGENT_BIN, 'keygen', '--out', other]);
    const before = await sourceKeys();
    const result = await run('plan', 'start', fleet.publisher.tree, '--key', `${other}.key`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/--key is not the publisher's key/);
    expect(await sourceKeys()).toEqual(before);
  });
});

describe('bad plans on the host: clear messages, nothing applied', () => {
  it('an unknown plan id: run-now --plan and plan show exit 1', async () => {
    const result = await planNow('p-20260101T000000Z-000000');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/no plan p-20260101T000000Z-000000: s3:\/\/releases\/puppet\/plans\/p-20260101T000000Z-000000\.json does not exist .*; nothing was run/);
    expect(existsSync(join(host.host.stateDir, 'plans/puppet'))).toBe(false); // Puppet never started
    const shown = await run('plan', 'show', 'p-20260101T000000Z-000000');
    expect(shown.exitCode).toBe(1);
    expect(shown.stderr).toMatch(/no plan p-20260101T000000Z-000000 at s3:\/\/releases\/puppet\/plans\//);
  });

  it('a tampered plan is refused by run-now --plan and by the scheduled poll', async () => {
    const planId = await startPlan();
    const original = await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/plans/${planId}.json`);
    await put(`plans/${planId}.json`, original.replace('"roles": []', '"roles": ["web"]'));
    const result = await planNow(planId);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`plans/${planId}\\.json: the signature does not verify with any key in verify\\.public_keys`));
    const pointer = JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/plans/current.json`));
    await put('plans/current.json', JSON.stringify({ ...pointer, document: pointer.document.replace('"sample": null', '"sample": 100') }));
    const scheduled = await host.runNow(['--trigger', 'schedule']);
    expect(scheduled.stderr).toMatch(/plan +not answered: .*the signature does not verify/);
    expect(await answerKeys(planId)).toEqual([]);
    expect(stageTarget()).toBe(active);
  });

  it('an unsigned plan is refused while verify.public_keys is set', async () => {
    const planId = await startPlan();
    await remove(`plans/${planId}.sig`);
    const result = await planNow(planId);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/has no signature beside it, and verify\.public_keys accepts only signed plans/);
    expect(await answerKeys(planId)).toEqual([]);
  });

  it('an expired plan: run-now --plan exits 1, the scheduled poll ignores it (and drops a staged candidate), plan show says it expired', async () => {
    expect((await planNow(await startPlan())).exitCode).toBe(2); // an earlier plan left its candidate staged
    expect(readdirSync(join(host.host.stateDir, 'plans/trees'))).toHaveLength(1);
    const planId = await startPlan('--expires', '1s');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const result = await planNow(planId);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`plan ${planId} expired at \\S+: start a new one`));
    const scheduled = await host.runNow(['--trigger', 'schedule']);
    expect(scheduled.stderr).not.toMatch(/plan /);
    expect(await answerKeys(planId)).toEqual([]);
    expect(readdirSync(join(host.host.stateDir, 'plans/trees'))).toEqual([]); // candidates of plans that are over are removed
    const shown = await run('plan', 'show');
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/EXPIRED at .*: hosts no longer answer it/);
    expect(shown.stdout).toMatch(/answered 0 of 0 hosts/);
  });

  it('a candidate missing from the bucket is a failed answer (exit 4), and nothing is applied', async () => {
    bump('welcome v3');
    const planId = await startPlan();
    const plan = JSON.parse(await getText(s3.client, SOURCE_BUCKET, `${SOURCE_PREFIX}/plans/${planId}.json`));
    await remove(`releases/${plan.candidate.release_id}.json`);
    const result = await planNow(planId, '--json');
    expect(result.exitCode).toBe(4);
    const report = JSON.parse(result.stdout) as PlanReport;
    expect(report.failures[0]!.message).toMatch(/could not stage the candidate: the plan names its candidate release \w{12}, but s3:\/\/\S+ is missing/);
    expect(await answerKeys(planId)).toEqual([`plans/${planId}/${host.id}.json`]);
    expect(stageTarget()).toBe(active);
    expect(readFileSync(join(host.host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
  });

  it('a host outside the plan\'s roles has nothing to answer (exit 0, no upload)', async () => {
    const planId = await startPlan('--role', 'db');
    const result = await planNow(planId);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`plan ${planId} is for roles db; this host has no roles: nothing to answer`));
    expect(await answerKeys(planId)).toEqual([]);
  });
});

describe('what a poll costs', () => {
  const polled = () => proxy.requests.map((request) => `${request.method} ${request.path.replace(`/${SOURCE_BUCKET}/${SOURCE_PREFIX}/`, '')} ${request.status}`);

  it('an open plan is answered once; afterwards it costs one more conditional GET a poll, answered 304', async () => {
    const planId = await startPlan();
    proxy.reset();
    const answering = await host.runNow(['--trigger', 'schedule']);
    expect(answering.stderr).toMatch(/plan +.*would change/);
    expect(polled()).toEqual(expect.arrayContaining(['GET current.json 304', 'GET plans/current.json 200']));
    expect(polled()).not.toContain(`GET plans/${planId}.json 200`); // the pointer embeds the plan
    expect(await answerKeys(planId)).toEqual([`plans/${planId}/${host.id}.json`]);
    proxy.reset();
    await host.runNow(['--trigger', 'schedule']);
    expect(polled()).toEqual(['GET current.json 304', 'GET plans/current.json 304']);
    expect(stageTarget()).toBe(active);
  });
});

describe('report.plan_diffs and report.plan_diff_max', () => {
  it('a diff is cut at plan_diff_max; plan_diffs: false sends checksums only', async () => {
    bump('welcome v4 with a long line that will not fit');
    const planId = await startPlan();
    host.host.writeConfig({ report: { plan_diff_max: 40 } });
    const cut = JSON.parse((await planNow(planId, '--json')).stdout) as PlanReport;
    const motd = cut.changes.find((change) => change.resource.endsWith('motd]'))!;
    expect(motd.diff).toEqual({ lines: ['--- current', '+++ planned', '@@ -1 +1 @@'], truncated: true });
    host.host.writeConfig({ report: { plan_diffs: false } });
    const bare = JSON.parse((await planNow(planId, '--json')).stdout) as PlanReport;
    const plain = bare.changes.find((change) => change.resource.endsWith('motd]'))!;
    expect(plain.diff).toBeUndefined();
    expect(plain.events[0]).toMatchObject({ property: 'content', current: expect.stringMatching(/^\{sha256\}/), desired: expect.stringMatching(/^\{sha256\}/) });
    expect(JSON.stringify(bare)).not.toContain('welcome');
  });

  it('config check names the key and what was expected', async () => {
    host.host.writeConfig({ report: { plan_diffs: 'yes', plan_diff_max: 'big' } });
    const result = await host.host.run(['config', 'check']);
    host.host.writeConfig({ report: { plan_diffs: true, plan_diff_max: 65536 } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/agent\.yaml: report\.plan_diffs: expected true or false, got "yes"/);
    expect(result.stderr).toMatch(/agent\.yaml: report\.plan_diff_max: expected a whole number, got "big"/);
  });
});
