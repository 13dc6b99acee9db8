import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countChangedFiles, indexTree, type TreeIndex } from '../../agent/release/tree-index.js';
import { computeReleaseId } from '../../agent/release/release-id.js';
import { AgentError } from '../../agent/errors.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-index-'));
  mkdirSync(join(root, 'manifests'));
  writeFileSync(join(root, 'manifests/site.pp'), 'node default {}\n');
  chmodSync(join(root, 'manifests/site.pp'), 0o644);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('indexTree', () => {
  it('hashes files with their modes into the SPEC §5 release id', async () => {
    writeFileSync(join(root, 'run.sh'), 'exit 0\n');
    chmodSync(join(root, 'run.sh'), 0o755);
    const index = await indexTree(root);
    expect(index.files['manifests/site.pp']).toMatchObject({ sha256: sha('node default {}\n'), mode: '0644', size: 16 });
    expect(index.releaseId).toBe(
      computeReleaseId([
        { path: 'manifests/site.pp', sha256: sha('node default {}\n'), mode: '0644' },
        { path: 'run.sh', sha256: sha('exit 0\n'), mode: '0755' },
      ]),
    );
  });

  it('counts a symlink as its target string with mode 120000, and directories not at all', async () => {
    symlinkSync('site.pp', join(root, 'manifests/current.pp'));
    mkdirSync(join(root, 'empty'));
    const index = await indexTree(root);
    expect(index.files['manifests/current.pp']).toMatchObject({ sha256: sha('site.pp'), mode: '120000' });
    expect(Object.keys(index.files).sort()).toEqual(['manifests/current.pp', 'manifests/site.pp']);
  });

  it('keeps .release/ in the index but out of the id', async () => {
    const plain = await indexTree(root);
    mkdirSync(join(root, '.release'));
    writeFileSync(join(root, '.release/manifest.json'), '{}');
    const signed = await indexTree(root);
    expect(signed.files['.release/manifest.json']).toBeDefined();
    expect(signed.releaseId).toBe(plain.releaseId);
  });

  it('reuses the digest of a hard link to an indexed file instead of reading it', async () => {
    const previous = await indexTree(root);
    const lied: TreeIndex = { ...previous, files: { 'manifests/site.pp': { ...previous.files['manifests/site.pp']!, sha256: 'f'.repeat(64) } } };
    const staged = join(root, 'staged');
    mkdirSync(join(staged, 'manifests'), { recursive: true });
    linkSync(join(root, 'manifests/site.pp'), join(staged, 'manifests/site.pp'));
    expect((await indexTree(staged, lied)).files['manifests/site.pp']?.sha256).toBe('f'.repeat(64));
  });

  it('hashes again a file whose inode matches but whose mtime moved', async () => {
    const previous = await indexTree(root);
    const lied: TreeIndex = { ...previous, files: { 'manifests/site.pp': { ...previous.files['manifests/site.pp']!, sha256: 'f'.repeat(64), mtimeMs: 1 } } };
    expect(statSync(join(root, 'manifests/site.pp')).mtimeMs).not.toBe(1);
    expect((await indexTree(root, lied)).files['manifests/site.pp']?.sha256).toBe(sha('node default {}\n'));
  });

  it.each([
    ['an absolute symlink', '/etc/passwd'],
    ['a symlink out of the tree', '../../etc/passwd'],
  ])('refuses %s', async (_what, target) => {
    symlinkSync(target, join(root, 'manifests/evil'));
    const error = await indexTree(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'source_rejected', message: expect.stringContaining('manifests/evil') });
  });

  it('refuses a socket (as it does devices and fifos)', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'control.sock'), resolve));
    try {
      await expect(indexTree(root)).rejects.toMatchObject({ code: 'source_rejected', message: expect.stringContaining('control.sock') });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('countChangedFiles', () => {
  const file = (sha256: string, mode = '0644') => ({ sha256, mode, size: 1, dev: 1, ino: 1, mtimeMs: 1 });
  it('counts added, removed, changed and chmodded files', () => {
    const before: TreeIndex = { releaseId: 'a', files: { same: file('1'), edited: file('2'), chmodded: file('3'), removed: file('4') } };
    const after: TreeIndex = { releaseId: 'b', files: { same: file('1'), edited: file('9'), chmodded: file('3', '0600'), added: file('5') } };
    expect(countChangedFiles(before, after)).toBe(4);
  });
});
