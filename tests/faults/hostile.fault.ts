import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getText, type S3Server } from '../helpers/s3.js';
import { AGENT_BIN, createAgentHost, type AgentHost } from '../helpers/agent-host.js';
import { buildManifest, serializeManifest, type ManifestFile, type ReleaseManifest } from '../../agent/release/manifest.js';
import { signManifest } from '../../agent/release/signature.js';
import { readPrivateKey } from '../../agent/release/key-files.js';
import { parseConfig } from '../../agent/config/load.js';
import { AgentError } from '../../agent/errors.js';
import type { Report } from '../../agent/report/types.js';
import { capture, captureHost, faultEnv, record, runCaptured, startFaultRig, type FaultRig } from './harness.js';

/**
 * Hostile input: mutated configs, malformed Puppet reports, trees with links out of themselves and
 * device files, and S3 objects that are not JSON. Every one ends in a clear refusal or is neutralised;
 * none crashes the agent or prints a stack trace.
 */
const REPORTS = new URL('../fixtures/puppet-reports/', import.meta.url).pathname;
let rig: FaultRig;
let s3: S3Server;
let host: AgentHost;
let dist: string;

beforeAll(async () => {
  rig = await startFaultRig('hostile');
  ({ s3, host, dist } = rig);
  expect((await runCaptured('hostile', host, ['run-now'])).exitCode).toBe(2);
}, 60_000);

afterAll(() => rig?.stop());

/** A small deterministic generator, so a failing mutation can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const VALID = stringify({
  instance_id: 'i-0fuzz',
  roles: ['web'],
  schedule: '*/5 * * * *',
  splay: '5m',
  source: { type: 'rsync', url: '/srv/dist', timeout: '5m' },
  verify: { public_keys: [] },
  puppet: { manifest: 'manifests', mode: 'enforce', timeout: '30m', extra_args: [] },
  report: { bucket: 'fleet-reports', spool_max: 1000, redact: ['secret=\\S+'] },
  hooks: { after_run: [['/bin/true']], timeout: '30s' },
});
const REPLACEMENTS = ['', '-1', '0', '99999999999', 'true', 'null', '[]', '{}', '"x"', '[1, [2]]', '{a: 1}', '*/0 * *', '1x', '~', '"\\u0000"', '&a', '*a', '!!binary AAAA', "'", '"', ':', '- -'];

function mutate(text: string, next: () => number): string {
  const lines = text.split('\n');
  const pick = () => Math.floor(next() * lines.length);
  const operations = [
    () => lines.splice(pick(), 1),
    () => lines.splice(pick(), 0, lines[pick()]!),
    () => {
      const index = pick();
      lines[index] = lines[index]!.replace(/:.*$/, `: ${REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)]}`);
    },
    () => {
      const index = pick();
      const line = lines[index]!;
      const at = Math.floor(next() * (line.length + 1));
      lines[index] = line.slice(0, at) + String.fromCharCode(32 + Math.floor(next() * 95)) + line.slice(at);
    },
    () => {
      const index = pick();
      lines[index] = `${' '.repeat(Math.floor(next() * 4))}${lines[index]!.trimStart()}`;
    },
    () => {
      const index = pick();
      lines[index] = lines[index]!.replace(/^(\s*)(\w)/, (_all, space: string, first: string) => `${space}${first}x`);
    },
  ];
  const count = 1 + Math.floor(next() * 3);
  for (let i = 0; i < count; i++) operations[Math.floor(next() * operations.length)]!();
  return lines.join('\n');
}

describe('hostile input', () => {
  it('config fuzzing: every mutation is a valid config or a config error naming the file and what is wrong', async () => {
    const MUTATIONS = 400;
    let valid = 0;
    let refused = 0;
    const crashes: string[] = [];
    for (let seed = 1; seed <= MUTATIONS; seed++) {
      const text = mutate(VALID, random(seed));
      try {
        parseConfig(text, 'agent.yaml', () => true);
        valid++;
      } catch (error) {
        const named = error instanceof AgentError && error.code === 'config' && error.message.split('\n').every((line) => /^agent\.yaml: \S.*/.test(line));
        if (named) refused++;
        else crashes.push(`seed ${seed}: ${String(error)}`);
      }
    }
    // and through the binary, which must answer 0 or 1 and never show a stack trace
    const dir = mkdtempSync(join(tmpdir(), 'agent-fuzz-'));
    let stackTraces = 0;
    try {
      for (let seed = 1; seed <= 12; seed++) {
        writeFileSync(join(dir, 'agent.yaml'), mutate(VALID, random(1000 + seed)));
        const result = await execa(process.execPath, [AGENT_BIN, 'config', 'check', '--config', join(dir, 'agent.yaml')], { reject: false, env: faultEnv({}) });
        capture('hostile', { stdout: String(result.stdout), stderr: String(result.stderr) });
        if (![0, 1].includes(result.exitCode ?? -1) || /^\s+at /m.test(String(result.stderr)) || /TypeError|RangeError/.test(String(result.stderr))) stackTraces++;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    record({ scenario: 'config fuzzing', runs: MUTATIONS + 12, failures: 0, losses: { crashes: crashes.length, stack_traces: stackTraces }, note: `${valid} still valid, ${refused} refused with the key named` });
    expect(crashes).toEqual([]);
    expect(stackTraces).toBe(0);
    expect(refused).toBeGreaterThan(MUTATIONS / 2);
  }, 180_000);

  it('malformed Puppet reports: the run is reported failed with a clear reason, never a crash', async () => {
    const real = readFileSync(join(REPORTS, 'changed.yaml'), 'utf8');
    const cases: Array<[string, string]> = [
      ['truncated YAML', real.slice(0, Math.floor(real.length / 3))],
      ['unexpected types', real.replace(/^resource_statuses:/m, 'resource_statuses: 42\nignored_statuses:')],
      ['an empty file', ''],
      ['not YAML at all', '\u0000\u0001{{{[[[ :::'],
    ];
    const stubs = mkdtempSync(join(tmpdir(), 'agent-stub-report-'));
    let wrong = 0;
    try {
      for (const [name, content] of cases) {
        writeFileSync(join(stubs, 'report.yaml'), content);
        // a Puppet that "applies" and leaves this report where the agent told it to
        writeFileSync(
          join(stubs, 'puppet'),
          `#!/bin/sh\nfor arg in "$@"; do case "$arg" in --lastrunreport=*) cp ${join(stubs, 'report.yaml')} "\${arg#--lastrunreport=}";; esac; done\nexit 2\n`,
        );
        chmodSync(join(stubs, 'puppet'), 0o755);
        const run = await runCaptured('hostile', host, ['run-now', '--json'], { PATH: `${stubs}:${process.env.PATH}` });
        let report: Report | undefined;
        try {
          report = JSON.parse(run.stdout) as Report;
        } catch {
          report = undefined;
        }
        // the failure bit (4), beside Puppet's own "changes applied" (2) when its exit code said so
        const clear = report?.apply.status === 'failed' && /report/i.test(report.apply.error ?? '') && [4, 6].includes(run.exitCode);
        if (!clear || /^\s+at /m.test(run.stderr)) {
          wrong++;
          process.stderr.write(`malformed report "${name}": exit ${run.exitCode}, apply ${JSON.stringify(report?.apply)}\n`);
        }
      }
    } finally {
      rmSync(stubs, { recursive: true, force: true });
    }
    record({ scenario: 'malformed Puppet reports', runs: cases.length, failures: wrong, losses: { crashes: wrong } });
    expect(wrong).toBe(0);
  }, 180_000);

  it('a tree with links out of itself and a device file: neutralised, nothing outside is reachable', async () => {
    symlinkSync('/etc/passwd', join(dist, 'absolute-link'));
    symlinkSync('../../../../outside', join(dist, 'manifests/escaping-link'));
    const device = await execa('mknod', [join(dist, 'device'), 'c', '1', '3'], { reject: false });
    writeFileSync(join(dist, 'manifests/hostile-neighbour.txt'), 'a real change: the tree is staged again\n');
    try {
      const run = await runCaptured('hostile', host, ['run-now', '--json']);
      const report = JSON.parse(run.stdout) as Report;
      const active = readlinkSync(host.stageDir);
      const hostile = hostileEntries(active);
      record({
        scenario: 'tree with escaping symlinks and a device file',
        runs: 1,
        failures: Number(![0, 2, 4].includes(run.exitCode)),
        losses: { hostile_entries_applied: hostile.length },
        note: `source ${report.source.status}; device file ${device.exitCode === 0 ? 'created' : 'not creatable here'}`,
      });
      expect(hostile).toEqual([]);
      expect(report.source.status).toBe('updated'); // rsync --safe-links and no -D leave them behind
    } finally {
      for (const name of ['absolute-link', 'manifests/escaping-link', 'device', 'manifests/hostile-neighbour.txt']) rmSync(join(dist, name), { force: true });
    }
  });

  it('signed S3 releases that point out of the tree: refused before anything is written outside', async () => {
    await s3.createBucket('releases');
    const keys = mkdtempSync(join(tmpdir(), 'agent-hostile-keys-'));
    const outside = mkdtempSync(join(tmpdir(), 'agent-hostile-outside-'));
    const s3Host = createAgentHost(
      {
        source: { type: 's3', bucket: 'releases', prefix: 'puppet', endpoint: s3.endpoint, force_path_style: true, timeout: '30s' },
        verify: { public_keys: [join(keys, 'release.pub')] },
        report: { bucket: 'fleet-reports', endpoint: s3.endpoint, force_path_style: true },
      },
      faultEnv(s3.env),
    );
    try {
      await execa(process.execPath, [AGENT_BIN, 'keygen', '--out', join(keys, 'release')]);
      const published = await execa(process.execPath, [AGENT_BIN, 'publish', dist, '--key', join(keys, 'release.key'), '--to', 's3://releases/puppet', '--endpoint', s3.endpoint], { env: faultEnv(s3.env), reject: false });
      expect(published.exitCode).toBe(0);
      expect((await runCaptured('hostile', s3Host, ['run-now'])).exitCode).toBe(2);
      const good = basename(readlinkSync(s3Host.stageDir));
      // signed with the trusted key: what a stolen key or a careless publisher could send
      const cases: Array<[string, Record<string, string>]> = [
        ['a file under a symlink to a directory outside', { etc: outside, 'etc/evil': 'written outside\n' }],
        ['a symlink to an absolute path', { 'manifests/passwd': '/etc/passwd' }],
        ['a symlink that climbs out with ..', { 'modules/up': '../../../../../../tmp' }],
      ];
      const base = JSON.parse(await getText(s3.client, 'releases', 'puppet/current.json')) as { release_id: string };
      let applied = 0;
      let written = 0;
      for (const [index, [, entries]] of cases.entries()) {
        await publishHostile(keys, base.release_id, entries, 100 + index);
        const run = await runCaptured('hostile', s3Host, ['run-now', '--json']);
        const report = JSON.parse(run.stdout) as Report;
        if (report.source.status !== 'rejected' || basename(readlinkSync(s3Host.stageDir)) !== good || run.exitCode !== 4) applied++;
        written += readdirSync(outside).length;
      }
      record({ scenario: 'signed S3 releases pointing out of the tree', runs: cases.length, failures: 0, losses: { hostile_releases_activated: applied, files_written_outside: written } });
      expect({ applied, written }).toEqual({ applied: 0, written: 0 });
    } finally {
      captureHost('hostile', s3Host);
      s3Host.remove();
      rmSync(keys, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('registry entries and reports in S3 that are not JSON show as unreadable; fleet status carries on', async () => {
    const put = (key: string, body: string) => s3.client.send(new PutObjectCommand({ Bucket: 'fleet-reports', Key: key, Body: body }));
    await put('registry/i-0badjson.json', '{"instance_id": "i-0badjson", ');
    await put('registry/i-0badreport.json', JSON.stringify({ schema: 'agent.registration/v1', instance_id: 'i-0badreport', roles: [] }));
    await put('latest/i-0badreport.json', '\u0000 not a report');
    const result = await runCaptured('hostile', host, ['fleet', 'status', '--json']);
    const { instances } = JSON.parse(result.stdout) as { instances: Array<{ instance_id: string; state: string }> };
    const unreadable = instances.filter((row) => row.state === 'unreadable').map((row) => row.instance_id).sort();
    record({ scenario: 'S3 objects that are not JSON', runs: 1, failures: Number(result.exitCode !== 0), losses: { crashes: Number(/^\s+at /m.test(result.stderr)) } });
    expect(result.exitCode).toBe(0);
    expect(unreadable).toEqual(['i-0badjson', 'i-0badreport']);
  });
});

/**
 * Publish by hand, as `agent publish` would but with `links` (path -> symlink target, or file content
 * when the path lies under another entry) added to release `baseId`: objects, manifest, signature,
 * then current.json.
 */
async function publishHostile(keys: string, baseId: string, links: Record<string, string>, serial: number): Promise<void> {
  const put = (key: string, body: string | Buffer) => s3.client.send(new PutObjectCommand({ Bucket: 'releases', Key: `puppet/${key}`, Body: body }));
  const base = JSON.parse(await getText(s3.client, 'releases', `puppet/releases/${baseId}.json`)) as ReleaseManifest;
  const files: Record<string, ManifestFile> = { ...base.files };
  for (const [path, content] of Object.entries(links)) {
    const isLink = !Object.keys(links).some((other) => path.startsWith(`${other}/`));
    const sha256 = createHash('sha256').update(content).digest('hex');
    files[path] = { sha256, size: Buffer.byteLength(content), mode: isLink ? '120000' : '0644' };
    await put(`objects/${sha256}`, content);
  }
  const manifest = buildManifest(files, { serial, createdAt: new Date(), createdBy: 'hostile' });
  const text = serializeManifest(manifest);
  await put(`releases/${manifest.release_id}.json`, text);
  await put(`releases/${manifest.release_id}.sig`, signManifest(text, await readPrivateKey(join(keys, 'release.key'))));
  await put('current.json', JSON.stringify({ release_id: manifest.release_id, serial }));
}

/** Symlinks leaving the release, or anything but files, directories and symlinks, in the active release. */
function hostileEntries(root: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      const stats = lstatSync(join(root, path));
      if (stats.isDirectory()) walk(path);
      else if (stats.isSymbolicLink()) {
        const target = readlinkSync(join(root, path));
        const resolved = posix.normalize(posix.join(posix.dirname(path), target));
        if (posix.isAbsolute(target) || resolved.startsWith('..')) found.push(`${path} -> ${target}`);
      } else if (!stats.isFile()) found.push(`${path} (not a regular file)`);
    }
  };
  walk('');
  return found;
}
