import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { activateRelease, readActiveRelease } from '../../agent/release/activate.js';
import { pruneReleases, removeStaleStaging } from '../../agent/release/prune.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { silentLog } from '../../agent/adapters/log.js';

const log = silentLog();
let work: string;
let paths: StatePaths;

/** A complete release: a manifest, its index beside it, activated `ageSeconds` ago. */
function release(id: string, ageSeconds = 0): string {
  const dir = join(paths.releasesDir, id);
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  writeFileSync(join(dir, 'manifests/site.pp'), `# ${id}\n`);
  writeFileSync(join(paths.releasesDir, `${id}.index.json`), '{}');
  age(id, ageSeconds);
  return dir;
}

function age(id: string, ageSeconds: number): void {
  const when = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(join(paths.releasesDir, id), when, when);
}

/** Another process reading `file` as fast as it can until `flag` disappears; resolves to what it read, counted. */
async function startReader(file: string, flag: string): Promise<() => Promise<Record<string, number>>> {
  const code = `
    const { readFileSync, existsSync } = require('node:fs');
    const seen = {};
    const deadline = Date.now() + 60000;
    process.stdout.write('reading;');
    while (existsSync(process.argv[2]) && Date.now() < deadline) {
      let text;
      try { text = readFileSync(process.argv[1], 'utf8'); } catch (error) { text = error.code; }
      seen[text] = (seen[text] || 0) + 1;
    }
    process.stdout.write(JSON.stringify(seen));`;
  writeFileSync(flag, '');
  const reader = execa(process.execPath, ['-e', code, file, flag], { reject: false });
  await new Promise((resolve) => reader.stdout?.once('data', resolve));
  return async () => {
    rmSync(flag);
    return JSON.parse((await reader).stdout.replace(/^reading;/, '')) as Record<string, number>;
  };
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'agent-activate-'));
  paths = statePaths({ state_dir: join(work, 'state'), stage_dir: join(work, 'puppetstage') });
  mkdirSync(paths.releasesDir, { recursive: true });
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('reading the active release', () => {
  it('finds none on a fresh host', async () => {
    expect(await readActiveRelease(paths)).toBeNull();
  });

  it('finds none when stage_dir is the old script real directory, or points outside releases/', async () => {
    mkdirSync(paths.stageDir);
    expect(await readActiveRelease(paths)).toBeNull();
    rmSync(paths.stageDir, { recursive: true });
    symlinkSync(work, paths.stageDir);
    expect(await readActiveRelease(paths)).toBeNull();
  });

  it('finds none when the release it points at is gone', async () => {
    symlinkSync(join(paths.releasesDir, 'gone'), paths.stageDir);
    expect(await readActiveRelease(paths)).toBeNull();
  });
});

describe('activation', () => {
  it('points stage_dir at the release, and repoints it', async () => {
    release('r1');
    release('r2');
    await activateRelease(paths, 'r1', log);
    expect(await readActiveRelease(paths)).toEqual({ id: 'r1', dir: join(paths.releasesDir, 'r1') });
    await activateRelease(paths, 'r2', log);
    expect(readlinkSync(paths.stageDir)).toBe(join(paths.releasesDir, 'r2'));
    expect(readFileSync(join(paths.stageDir, 'manifests/site.pp'), 'utf8')).toBe('# r2\n');
    expect(readdirSync(work).filter((name) => name.includes('.next-'))).toEqual([]);
  });

  it('never lets a reader find stage_dir missing while it flips (an unlink-then-link swap fails this)', async () => {
    release('r1');
    release('r2');
    await activateRelease(paths, 'r1', log);
    const stop = await startReader(join(paths.stageDir, 'manifests/site.pp'), join(work, 'reading'));
    for (let flip = 0; flip < 200; flip++) await activateRelease(paths, flip % 2 ? 'r1' : 'r2', log);
    expect(Object.keys(await stop()).sort()).toEqual(['# r1\n', '# r2\n']);
  });

  it('refuses to point stage_dir at a release that does not exist, leaving it as it was', async () => {
    release('r1');
    await activateRelease(paths, 'r1', log);
    await expect(activateRelease(paths, 'missing', log)).rejects.toMatchObject({ code: 'internal' });
    expect((await readActiveRelease(paths))?.id).toBe('r1');
  });

  it('moves a real stage_dir of the old rsync script aside once', async () => {
    mkdirSync(paths.stageDir);
    writeFileSync(join(paths.stageDir, 'old.pp'), 'old');
    release('r1');
    release('r2');
    await activateRelease(paths, 'r1', log);
    expect(readFileSync(`${paths.stageDir}.pre-agent/old.pp`, 'utf8')).toBe('old');
    await activateRelease(paths, 'r2', log);
    expect(readdirSync(work).filter((name) => name.startsWith('puppetstage.pre-agent'))).toEqual(['puppetstage.pre-agent']);
  });

  it('keeps an earlier .pre-agent copy and moves the directory beside it, timestamped', async () => {
    mkdirSync(`${paths.stageDir}.pre-agent`);
    mkdirSync(paths.stageDir);
    writeFileSync(join(paths.stageDir, 'old.pp'), 'second');
    release('r1');
    await activateRelease(paths, 'r1', log);
    const aside = readdirSync(work).filter((name) => name.startsWith('puppetstage.pre-agent.'));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^puppetstage\.pre-agent\.\d{8}T\d{6}Z$/);
    expect(readFileSync(join(work, aside[0]!, 'old.pp'), 'utf8')).toBe('second');
  });
});

describe('pruning', () => {
  it('keeps the 3 most recently activated releases, with their indexes', async () => {
    for (const [index, id] of ['r1', 'r2', 'r3', 'r4', 'r5'].entries()) release(id, 100 - index);
    await activateRelease(paths, 'r1', log); // the oldest, reactivated: a rollback
    await pruneReleases(paths, 3, log);
    expect(readdirSync(paths.releasesDir).sort()).toEqual(['r1', 'r1.index.json', 'r4', 'r4.index.json', 'r5', 'r5.index.json']);
  });

  it('never deletes the active release, however old', async () => {
    for (const [index, id] of ['r1', 'r2', 'r3', 'r4', 'r5'].entries()) release(id, 100 - index);
    await activateRelease(paths, 'r1', log);
    age('r1', 1000); // a clock step back, or a hand-touched dir: the active one is still kept
    await pruneReleases(paths, 3, log);
    expect(readdirSync(paths.releasesDir).filter((name) => !name.endsWith('.json')).sort()).toEqual(['r1', 'r3', 'r4', 'r5']);
    expect((await readActiveRelease(paths))?.id).toBe('r1');
  });

  it('removes an index whose release is gone, and leaves staging to removeStaleStaging', async () => {
    release('r1');
    writeFileSync(join(paths.releasesDir, 'orphan.index.json'), '{}');
    mkdirSync(join(paths.releasesDir, '.staging-abc123'));
    await pruneReleases(paths, 3, log);
    expect(readdirSync(paths.releasesDir).sort()).toEqual(['.staging-abc123', 'r1', 'r1.index.json']);
  });

  it('removes staging dirs a crashed run left, and nothing else', async () => {
    release('r1');
    mkdirSync(join(paths.releasesDir, '.staging-abc123/manifests'), { recursive: true });
    writeFileSync(join(paths.releasesDir, '.staging-abc123/manifests/site.pp'), 'half');
    await removeStaleStaging(paths);
    expect(readdirSync(paths.releasesDir).sort()).toEqual(['r1', 'r1.index.json']);
    expect(existsSync(join(paths.releasesDir, 'r1/manifests/site.pp'))).toBe(true);
  });

  it('copes with a host that has no releases dir yet', async () => {
    rmSync(paths.releasesDir, { recursive: true });
    await removeStaleStaging(paths);
    await pruneReleases(paths, 3, log);
    expect(existsSync(paths.releasesDir)).toBe(false);
  });
});
