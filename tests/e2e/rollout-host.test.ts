import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server, getText } from '../helpers/s3.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { AGENT_BIN, createAgentHost, type AgentHost } from '../helpers/agent-host.js';
import { layFixtureTree } from '../helpers/fixture-trees.js';
import { startRollout, changeRollout } from '../../agent/rollout/transitions.js';
import { serializeRollout, type RolloutDocument } from '../../agent/rollout/document.js';
import { cohortPoint } from '../../agent/rollout/cohort.js';
import { signManifest, parsePrivateKey } from '../../agent/release/signature.js';
import type { Report } from '../../agent/report/types.js';

/**
 * The host's side of a rollout (SPEC §9) against a real S3 API: the signed rollout.json decides
 * between candidate and previous by cohort; a tampered, unsigned or replayed document is refused
 * and the host keeps what it has; an abort brings an exposed host back past the serial check.
 * The documents are written here by hand (the operator commands have their own tests).
 */
const BUCKET = 'releases';
const PREFIX = 'puppet';

type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let proxy: S3Proxy;
let keys: string;
let tree: string;
let exposedHost: AgentHost;
let otherHost: AgentHost;
let previous: { release_id: string; serial: number };
let candidate: { release_id: string; serial: number };
let rollout: RolloutDocument;

const agent = (...args: string[]) => execa(process.execPath, [AGENT_BIN, ...args], { reject: false, env: s3.env });
const publish = () => agent('publish', tree, '--key', join(keys, 'release.key'), '--to', `s3://${BUCKET}/${PREFIX}`, '--endpoint', s3.endpoint);
const current = async () => JSON.parse(await getText(s3.client, BUCKET, `${PREFIX}/current.json`)) as { release_id: string; serial: number };
const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}`, Body: body }));
const activeRelease = (host: AgentHost) => basename(readlinkSync(host.stageDir));
const sign = (text: string) => signManifest(text, parsePrivateKey(readFileSync(join(keys, 'release.key'), 'utf8'), 'test key'));

/** Write a rollout document as the publisher does: signature first, then the document, then the pointer's hint. */
async function writeRollout(doc: RolloutDocument, options: { signature?: string | null; bytes?: string } = {}): Promise<void> {
  const bytes = options.bytes ?? serializeRollout(doc);
  if (options.signature === null) await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/rollout.sig` }));
  else await put('rollout.sig', options.signature ?? sign(serializeRollout(doc)));
  await put('rollout.json', bytes);
  await put('current.json', `${JSON.stringify({ ...previous, rollout_id: doc.rollout_id })}\n`);
}

async function runNow(host: AgentHost, ...args: string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  const result = await host.run(['run-now', '--json', ...args]);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  } catch {
    throw new Error(`run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
}

/** An instance id whose cohort point lies inside (or outside) the first step of `rolloutId`. */
function instanceIn(rolloutId: string, inside: boolean, percent: number): string {
  for (let i = 0; ; i++) {
    const id = `i-0e2e${i.toString(16).padStart(12, '0')}`;
    if ((cohortPoint(rolloutId, id) < percent) === inside) return id;
  }
}

function hostConfig(instanceId: string, metrics: string): Record<string, unknown> {
  return {
    instance_id: instanceId,
    source: { type: 's3', bucket: BUCKET, prefix: PREFIX, endpoint: proxy.endpoint, force_path_style: true, timeout: '30s' },
    verify: { public_keys: [join(keys, 'release.pub')] },
    report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
    metrics: { textfile: metrics },
  };
}

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports', BUCKET] });
  proxy = await startS3Proxy({ port: s3.port });
  keys = mkdtempSync(join(tmpdir(), 'agent-keys-'));
  tree = layFixtureTree(mkdtempSync(join(tmpdir(), 'agent-tree-')), 'sandbox');
  expect((await agent('keygen', '--out', join(keys, 'release'))).exitCode).toBe(0);
  expect((await publish()).exitCode).toBe(0);
  previous = await current();
  // the candidate is uploaded like `rollout start` does: objects and manifest, current.json left on previous
  const site = join(tree, 'manifests/site.pp');
  writeFileSync(site, readFileSync(site, 'utf8').replace('welcome v1', 'welcome v2'));
  expect((await publish()).exitCode).toBe(0);
  candidate = await current();
  await put('current.json', `${JSON.stringify(previous)}\n`);

  rollout = startRollout({
    rolloutId: 'r-20261204T000000Z-e2e001', serial: 1, candidate, previous, steps: [10, 100], canaryRole: null,
    bake: '1s', maxFailed: '0', onFailure: 'abort', now: new Date(), by: 'test',
  });
  exposedHost = createAgentHost(hostConfig(instanceIn(rollout.rollout_id, true, 10), ''), s3.env);
  otherHost = createAgentHost(hostConfig(instanceIn(rollout.rollout_id, false, 10), ''), s3.env);
  exposedHost.writeConfig({ metrics: { textfile: join(exposedHost.dir, 'agent.prom') } });
  for (const host of [exposedHost, otherHost]) expect((await runNow(host)).report.apply.release_id).toBe(previous.release_id);
}, 120_000);

afterAll(async () => {
  exposedHost?.remove();
  otherHost?.remove();
  rmSync(keys, { recursive: true, force: true });
  rmSync(tree, { recursive: true, force: true });
  await proxy?.stop();
  await s3?.remove();
});

describe('a host following a signed rollout', () => {
  it('an exposed host applies the candidate and reports its rollout; metrics say exposed', async () => {
    await writeRollout(rollout);
    const { exitCode, report } = await runNow(exposedHost, '--trigger', 'schedule');
    expect(exitCode).toBe(2);
    expect(report.apply.release_id).toBe(candidate.release_id);
    expect(report.rollout).toMatchObject({ rollout_id: rollout.rollout_id, step: 0, exposed: true, state: 'running', candidate_release_id: candidate.release_id });
    expect(readFileSync(join(exposedHost.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v2\n');
    expect(readFileSync(join(exposedHost.dir, 'agent.prom'), 'utf8')).toContain(`agent_rollout_exposed{rollout_id="${rollout.rollout_id}"} 1`);
  });

  it('a host outside the step keeps previous, and its poll costs one conditional GET per document', async () => {
    await runNow(otherHost, '--trigger', 'schedule');
    proxy.reset();
    const { report } = await runNow(otherHost, '--trigger', 'schedule');
    expect(activeRelease(otherHost)).toBe(previous.release_id);
    expect(report.rollout).toMatchObject({ exposed: false });
    expect(proxy.requests.map((request) => `${request.method} ${request.path.split('/').pop()} ${request.status}`).sort()).toEqual(['GET current.json 304', 'GET current.json 404', 'GET rollout.json 304']); // + plans/current.json (SPEC §10): no plan
  });

  it('a tampered rollout document is refused: the host keeps its release and the report says why', async () => {
    const tampered = serializeRollout({ ...rollout, serial: 2, steps: [100, 100] });
    await writeRollout({ ...rollout, serial: 2 }, { bytes: tampered });
    const { exitCode, report } = await runNow(otherHost, '--trigger', 'schedule');
    expect(exitCode & 4).toBe(4);
    expect(report.source.status).toBe('rejected');
    expect(report.source.error).toMatch(/rollout\.json: the signature does not verify/);
    expect(activeRelease(otherHost)).toBe(previous.release_id);
  });

  it('an unsigned rollout document is refused while verify.public_keys is set', async () => {
    await writeRollout({ ...rollout, serial: 2 }, { signature: null });
    const { report } = await runNow(otherHost, '--trigger', 'schedule');
    expect(report.source).toMatchObject({ status: 'rejected', error: expect.stringMatching(/rollout\.json has no signature/) });
    expect(activeRelease(otherHost)).toBe(previous.release_id);
  });

  it('an older rollout document is refused as a replay once a newer one was followed', async () => {
    const advanced = changeRollout(rollout, { action: 'advanced', state: 'running', step: 1, reason: 'test', now: new Date(), by: 'test' });
    await writeRollout(advanced);
    expect((await runNow(otherHost, '--trigger', 'schedule')).report.apply.release_id).toBe(candidate.release_id);
    await writeRollout(rollout); // serial 1 again, correctly signed
    const { report } = await runNow(otherHost, '--trigger', 'schedule');
    expect(report.source).toMatchObject({ status: 'rejected', error: expect.stringMatching(/serial 1, lower than the 2 this host has already followed/) });
    expect(activeRelease(otherHost)).toBe(candidate.release_id);
  });

  it('an abort returns exposed hosts to previous, past the serial check, because the signed rollout names it', async () => {
    const aborted = changeRollout({ ...rollout, serial: 2 }, { action: 'aborted', state: 'aborted', step: 0, reason: 'test abort', now: new Date(), by: 'test' });
    await writeRollout(aborted);
    for (const host of [exposedHost, otherHost]) {
      const { exitCode, report } = await runNow(host, '--trigger', 'schedule');
      expect(exitCode).toBe(2);
      expect(report.apply.release_id).toBe(previous.release_id);
      expect(report.rollout).toMatchObject({ state: 'aborted', exposed: false });
      expect(readFileSync(join(host.sandbox, 'managed/motd'), 'utf8')).toBe('welcome v1\n');
    }
    expect(readFileSync(join(exposedHost.dir, 'agent.prom'), 'utf8')).toContain(`agent_rollout_exposed{rollout_id="${rollout.rollout_id}"} 0`);
  });

  it('without the signed rollout, the same older release is refused as a downgrade', async () => {
    await writeRollout(changeRollout({ ...rollout, serial: 3 }, { action: 'advanced', state: 'running', step: 1, reason: 'test', now: new Date(), by: 'test' }));
    expect((await runNow(exposedHost, '--trigger', 'schedule')).report.apply.release_id).toBe(candidate.release_id);
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/rollout.json` }));
    await put('current.json', `${JSON.stringify(previous)}\n`); // a pointer moved back by hand: no rollout names it
    const { report } = await runNow(exposedHost, '--trigger', 'schedule');
    expect(report.source).toMatchObject({ status: 'rejected', error: expect.stringMatching(/lower than the active release/) });
    expect(activeRelease(exposedHost)).toBe(candidate.release_id);
  });
});
