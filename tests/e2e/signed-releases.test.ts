import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startS3Server } from '../helpers/s3.js';
import { AGENT_BIN, createLocalSourceHost, type AgentHost } from '../helpers/agent-host.js';
import { copyTree } from '../helpers/fixture-trees.js';
import type { Report } from '../../agent/report/types.js';

/**
 * Signed releases on an rsync source (a local path here; the same code runs over ssh): the
 * tampering corpus of issue #4. Every tampered tree is refused with its reason, and the run still
 * applies the last good release (exit 4, source.status rejected).
 */
type S3 = Awaited<ReturnType<typeof startS3Server>>;
let s3: S3;
let host: AgentHost;
let dist: string;
let keys: string;
/** The first published tree (applied first), and the second (what the tampering cases start from), with their serials. */
let pristine: string;
let serial1: number;
let serial2: number;
let next: string;
let removeHost: () => void;
let goodId: string;

const agent = (...args: string[]) => execa(process.execPath, [AGENT_BIN, ...args], { reject: false });

async function runNow(...args: string[]): Promise<{ exitCode: number; report: Report; stderr: string }> {
  const result = await host.run(['run-now', '--json', ...args]);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  } catch {
    throw new Error(`run-now printed no report (exit ${result.exitCode}):\n${result.stderr}`);
  }
}

/** Put the published tree back exactly (its .release/ included). */
function restoreDist(from = pristine): void {
  rmSync(dist, { recursive: true, force: true });
  copyTree(from, dist);
}

const activeRelease = () => readlinkSync(host.stageDir).split('/').pop();

beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['fleet-reports'] });
  keys = mkdtempSync(join(tmpdir(), 'agent-keys-'));
  expect((await agent('keygen', '--out', join(keys, 'release'))).exitCode).toBe(0);
  expect((await agent('keygen', '--out', join(keys, 'stranger'))).exitCode).toBe(0);
  ({ host, dist, remove: removeHost } = createLocalSourceHost(s3, { verify: { public_keys: [join(keys, 'release.pub')] } }));
  const published = await agent('publish', dist, '--key', join(keys, 'release.key'));
  expect(published.exitCode).toBe(0);
  pristine = mkdtempSync(join(tmpdir(), 'agent-pristine-'));
  copyTree(dist, pristine);
  next = mkdtempSync(join(tmpdir(), 'agent-next-'));
  copyTree(dist, next);
  writeFileSync(join(next, 'README'), 'release two\n');
  expect((await agent('publish', next, '--key', join(keys, 'release.key'))).exitCode).toBe(0);
  serial1 = serialOf(dist);
  serial2 = serialOf(next);
}, 60_000);

const serialOf = (dir: string) => (JSON.parse(readFileSync(join(dir, '.release/manifest.json'), 'utf8')) as { serial: number }).serial;

/** Serials are at least the publish time in seconds: wait until the clock has passed one. */
async function waitPastSerial(serial: number): Promise<void> {
  while (Math.floor(Date.now() / 1000) <= serial) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('the serials publish gives', () => {
  it('are at least the publish time in seconds, and one past the release found in DIR', () => {
    expect(serial1).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z') / 1000);
    expect(serial1).toBeLessThanOrEqual(Date.now() / 1000);
    expect(serial2).toBeGreaterThan(serial1);
  });
});

afterAll(async () => {
  removeHost?.();
  rmSync(keys, { recursive: true, force: true });
  rmSync(pristine, { recursive: true, force: true });
  rmSync(next, { recursive: true, force: true });
  await s3?.remove();
});

describe('agent keygen', () => {
  it('writes a 0600 private key and a public key, and never overwrites them', async () => {
    expect(statSync(join(keys, 'release.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keys, 'release.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await agent('keygen', '--out', join(keys, 'release'));
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('exists: keygen never overwrites a key');
    expect((await agent('keygen')).exitCode).toBe(64);
  });
});

describe('agent publish into DIR', () => {
  it('gives the same tree the same release, serial and bytes when published twice', async () => {
    const before = readFileSync(join(dist, '.release/manifest.json'), 'utf8');
    const again = await agent('publish', dist, '--key', join(keys, 'release.key'));
    expect(again.stdout).toMatch(new RegExp(`^release [0-9a-f]{12} serial ${serial1}: \\d+ files, \\d+ bytes$`, 'm'));
    expect(readFileSync(join(dist, '.release/manifest.json'), 'utf8')).toBe(before);
    expect(JSON.parse(before)).toMatchObject({ schema: 'agent.release/v1', serial: serial1, created_by: expect.stringContaining('@') });
  });

  it('refuses a missing key with exit 1 and a usage error with 64', async () => {
    expect((await agent('publish', dist, '--key', join(keys, 'absent.key'))).stderr).toContain('absent.key: cannot read it (ENOENT)');
    expect((await agent('publish', dist)).exitCode).toBe(64);
  });
});

describe('a signed rsync source', () => {
  it('verifies and applies a signed release', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(2);
    expect(report.source.status).toBe('updated');
    goodId = JSON.parse(readFileSync(join(dist, '.release/manifest.json'), 'utf8')).release_id;
    expect(report.source.release_id).toBe(goodId);
    expect(report.apply.release_id).toBe(goodId);
  });

  it('never syncs a file tampered with under an unchanged manifest: the poll reads the manifest alone', async () => {
    writeFileSync(join(dist, 'manifests/site.pp'), 'notify { "injected": }\n');
    try {
      const { exitCode, report } = await runNow();
      expect(exitCode).toBe(0);
      expect(report.source).toMatchObject({ status: 'unchanged', release_id: goodId });
      expect(readFileSync(join(host.stageDir, 'manifests/site.pp'), 'utf8')).toBe(readFileSync(join(pristine, 'manifests/site.pp'), 'utf8'));
    } finally {
      restoreDist();
    }
  });

  // each case starts from the published serial 2 tree and tampers with it on the source
  const cases: Array<[string, () => void | Promise<unknown>, RegExp]> = [
    ['one byte changed in a file', () => writeFileSync(join(dist, 'README'), readFileSync(join(dist, 'README'), 'utf8').replace(/^./, 'X')), /README: content differs from the manifest/],
    ['an extra file', () => writeFileSync(join(dist, 'manifests/extra.pp'), 'notify { "injected": }\n'), /manifests\/extra\.pp: not in the manifest \(extra file\)/],
    ['a missing file', () => rmSync(join(dist, 'README')), /README: missing/],
    ['a changed mode', () => chmodSync(join(dist, 'manifests/site.pp'), 0o755), /manifests\/site\.pp: mode 0755, manifest says 0644/],
    [
      'the manifest edited after signing',
      () => writeFileSync(join(dist, '.release/manifest.json'), readFileSync(join(dist, '.release/manifest.json'), 'utf8').replace(/"created_by": "[^"]*"/, '"created_by": "mallory@evil"')),
      /the signature does not verify with any key in verify\.public_keys/,
    ],
    ['a signature from an unknown key', () => agent('publish', dist, '--key', join(keys, 'stranger.key')), /the signature does not verify/],
    ['a truncated signature', () => truncateSync(join(dist, '.release/manifest.sig'), 30), /the signature does not verify/],
    ['no manifest at all (an unsigned tree)', () => rmSync(join(dist, '.release'), { recursive: true }), /unsigned/],
  ];

  it.each(cases)('refuses %s, says why, and still applies the last good release', async (_case, tamper, reason) => {
    restoreDist(next);
    await tamper();
    try {
      const { exitCode, report, stderr } = await runNow();
      expect(exitCode).toBe(4);
      expect(report.result).toBe('failed');
      expect(report.source).toMatchObject({ status: 'rejected', release_id: null, error: expect.stringMatching(reason) });
      expect(report.apply).toMatchObject({ status: 'unchanged', release_id: goodId });
      expect(activeRelease()).toBe(goodId);
      expect(stderr).toMatch(/REJECTED/);
    } finally {
      restoreDist();
    }
  });

  it('an unchanged signed source is unchanged (the manifest alone decides)', async () => {
    const { exitCode, report } = await runNow();
    expect(exitCode).toBe(0);
    expect(report.source).toMatchObject({ status: 'unchanged', release_id: goodId });
  });

  it('refuses an older serial replayed, then applies it with --allow-downgrade', async () => {
    restoreDist(next);
    const second = await runNow();
    expect(second.report.source.status).toBe('updated');
    const secondId = second.report.source.release_id;

    restoreDist(); // the first tree, validly signed: a replay
    const replay = await runNow();
    expect(replay.exitCode).toBe(4);
    expect(replay.report.source.error).toMatch(new RegExp(`serial ${serial1}, lower than the active release's ${serial2} .*--allow-downgrade`));
    expect(activeRelease()).toBe(secondId);

    const rollback = await runNow('--allow-downgrade');
    expect(rollback.exitCode).toBe(0);
    expect(rollback.report.source).toMatchObject({ status: 'updated', release_id: goodId });
    expect(activeRelease()).toBe(goodId);
  });
});

describe('a publisher that regenerates DIR from a checkout', () => {
  it('loses .release/ with rsync --delete, publishes again, and every host still takes the release', async () => {
    restoreDist(next);
    expect((await runNow()).report.source.status).toMatch(/updated|unchanged/);
    const active = activeRelease();
    // the checkout: the tree as git has it (no .release/), with a change, synced over DIR
    const checkout = mkdtempSync(join(tmpdir(), 'agent-checkout-'));
    copyTree(next, checkout);
    rmSync(join(checkout, '.release'), { recursive: true });
    writeFileSync(join(checkout, 'README'), 'release three, from git\n');
    await execa('rsync', ['-a', '--delete', `${checkout}/`, `${dist}/`]);
    rmSync(checkout, { recursive: true, force: true });
    await waitPastSerial(serial2);
    const published = await agent('publish', dist, '--key', join(keys, 'release.key'));
    expect(published.exitCode).toBe(0);
    expect(serialOf(dist)).toBeGreaterThan(serial2);
    const taken = await runNow();
    expect(taken.report.source.error ?? null).toBeNull();
    expect(taken.report.source.status).toBe('updated');
    expect(activeRelease()).not.toBe(active);
    expect(readFileSync(join(host.stageDir, 'README'), 'utf8')).toBe('release three, from git\n');
  });

  it('--serial N sets the serial, and warns when it is not above the one found', async () => {
    writeFileSync(join(dist, 'README'), 'release four\n');
    const low = await agent('publish', dist, '--key', join(keys, 'release.key'), '--serial', '7');
    expect(low.exitCode).toBe(0);
    expect(low.stderr).toMatch(/--serial 7 is not above serial \d+ published before: .*--allow-downgrade/);
    expect(serialOf(dist)).toBe(7);
    expect((await agent('publish', dist, '--key', join(keys, 'release.key'), '--serial', 'x')).exitCode).toBe(64);
  });
});
