import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, copyFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, execaSync } from 'execa';

/**
 * ami/ensure-node.sh on a machine with no `node` on PATH: the README's set-up gets one from the npm
 * registry (here a loopback HTTP server serving real tarballs built from this machine's node and npm,
 * under a version and SHA-512 the test pins through the script's environment), or stops with a message.
 */
const REPO = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(REPO, 'ami/ensure-node.sh');
// what the script runs, and nothing else: no node, no npm, no apt
const TOOLS = ['bash', 'uname', 'dirname', 'id', 'mktemp', 'rm', 'curl', 'base64', 'od', 'tr', 'sha512sum', 'cut', 'mkdir', 'tar', 'gzip', 'ln', 'mv', 'head', 'env', 'sh'];
let work: string;
let tools: string;
let server: Server;
let registry: string;
const pins: Record<string, string> = {};

function integrity(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

function run(env: Record<string, string>, args: string[] = []) {
  return execa(join(tools, 'bash'), [SCRIPT, ...args], { env: { PATH: tools, ...env }, extendEnv: false, reject: false });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'agent-ensure-node-'));
  tools = join(work, 'tools');
  mkdirSync(tools);
  for (const tool of TOOLS) {
    const path = execaSync('bash', ['-c', `command -v ${tool}`]).stdout.trim();
    symlinkSync(realpathSync(path), join(tools, tool));
  }
  const files = join(work, 'registry');
  const nodePackage = join(work, 'node-pkg/package/bin');
  mkdirSync(nodePackage, { recursive: true });
  copyFileSync(process.execPath, join(nodePackage, 'node'));
  chmodSync(join(nodePackage, 'node'), 0o755);
  const nodeName = `node-linux-${process.arch}`;
  mkdirSync(join(files, nodeName, '-'), { recursive: true });
  mkdirSync(join(files, 'npm', '-'), { recursive: true });
  const nodeTgz = join(files, nodeName, '-', `${nodeName}-99.1.0.tgz`);
  await execa('tar', ['-czf', nodeTgz, '-C', join(work, 'node-pkg'), 'package']);
  const npmDir = dirname(dirname(realpathSync(execaSync('bash', ['-c', 'command -v npm']).stdout.trim())));
  const npmTgz = join(files, 'npm', '-', 'npm-99.2.0.tgz');
  await execa('tar', ['-czf', npmTgz, '-C', dirname(npmDir), '--transform', `s,^${npmDir.split('/').pop()},package,`, npmDir.split('/').pop()!]);
  Object.assign(pins, { AGENT_NODE_VERSION: '99.1.0', AGENT_NODE_SHA512: integrity(nodeTgz), AGENT_NPM_VERSION: '99.2.0', AGENT_NPM_SHA512: integrity(npmTgz) });
  server = createServer((request, response) => {
    const file = join(files, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(files) || !existsSync(file)) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

function target(name: string) {
  const dir = join(work, name);
  return { AGENT_NODE_PREFIX: join(dir, 'lib/agent-node'), AGENT_NODE_BIN_DIR: join(dir, 'bin') };
}

describe('ami/ensure-node.sh', () => {
  it('with no node on PATH, installs the registry Node and npm, checked against the pinned SHA-512, and prints where', async () => {
    const dirs = target('fresh');
    expect((await execa('bash', ['-c', 'command -v node'], { env: { PATH: tools }, extendEnv: false, reject: false })).exitCode).not.toBe(0);
    const result = await run({ ...pins, ...dirs, AGENT_NPM_REGISTRY: registry });
    expect(result.stderr).toContain('downloading');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(dirs.AGENT_NODE_BIN_DIR);
    const env = { PATH: `${dirs.AGENT_NODE_BIN_DIR}:${tools}` };
    expect((await execa('node', ['--version'], { env, extendEnv: false })).stdout).toBe(process.version);
    expect((await execa('npm', ['--version'], { env, extendEnv: false })).stdout).toMatch(/^\d+\.\d+\.\d+$/);
    // run again: what it installed is found, nothing is downloaded
    const again = await run({ ...pins, ...dirs, AGENT_NPM_REGISTRY: 'http://127.0.0.1:9' });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).not.toContain('downloading');
  }, 120_000);

  it('replaces a node that is too old', async () => {
    const dirs = target('old');
    const old = join(work, 'old-node');
    mkdirSync(old);
    // a Node 18 (Debian 12's) is not on this machine: a stub that answers like one
    writeFileSync(join(old, 'node'), '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    const result = await execa(join(tools, 'bash'), [SCRIPT], { env: { PATH: `${old}:${tools}`, ...pins, ...dirs, AGENT_NPM_REGISTRY: registry }, extendEnv: false, reject: false });
    expect(result.stderr).toContain('v18.19.0');
    expect(result.exitCode).toBe(0);
    expect(realpathSync(join(dirs.AGENT_NODE_BIN_DIR, 'node'))).toBe(join(dirs.AGENT_NODE_PREFIX, 'bin/node'));
  }, 120_000);

  it('refuses a download that does not match its pinned SHA-512 and installs nothing', async () => {
    const dirs = target('tampered');
    const result = await run({ ...pins, AGENT_NODE_SHA512: pins.AGENT_NPM_SHA512!, ...dirs, AGENT_NPM_REGISTRY: registry });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('does not match its pinned SHA-512');
    expect(existsSync(join(dirs.AGENT_NODE_BIN_DIR, 'node'))).toBe(false);
  }, 60_000);

  it('stops at once, naming the version needed and how to get it, when nothing can be downloaded', async () => {
    const dirs = target('offline');
    const result = await run({ ...pins, ...dirs, AGENT_NPM_REGISTRY: 'http://127.0.0.1:9' }, ['--min', '22.0']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('could not download');
    expect(result.stderr).toContain('Node.js >= 22.0');
    expect(result.stderr).toContain('npm install node@24');
  }, 60_000);
});
