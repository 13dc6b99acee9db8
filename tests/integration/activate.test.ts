import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activateRelease, readActiveRelease } from '../../agent/release/activate.js';
import { pruneReleases, removeStaleStaging } from '../../agent/release/prune.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import { silentLog } from '../../agent/adapters/log.js';

const log = silentLog();
let work: string;
let paths: StatePaths;

function release(id: string, ageSeconds = 0): string {
  const dir = join(paths.releasesDir, id);
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  writeFileSync(join(dir, 'manifests/site.pp'), `# ${id}\n`);
  const when = new Date(Date.now() - ageSeconds * 1000);
  utimesSync(dir, when, when);
  return dir;
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'agent-activate-'));
  paths = statePaths({ state_dir: join(work, 'state'), stage_dir: join(work, 'puppetstage') });
  mkdirSync(paths.releasesDir, { recursive: true });
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('activation', () => {
  it('finds no active release on a fresh host', async () => {
    expect(await readActiveRelease(paths)).toBeNull();
  });

  it('points stage_dir at the release, and repoints it atomically', async () => {
    release('r1');
    release('r2');
    await activateRelease(paths, 'r1', log);
    expect(await readActiveRelease(paths)).toEqual({ id: 'r1', dir: join(paths.releasesDir, 'r1') });
    await activateRelease(paths, 'r2', log);
    expect(readlinkSync(paths.stageDir)).toBe(join(paths.releasesDir, 'r2'));
    expect(readFileSync(join(paths.stageDir, 'manifests/site.pp'), 'utf8')).toBe('# r2\n');
    expect(readdirSync(work).filter((name) => name.includes('.next-'))).toEqual([]);
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
});

describe('pruning', () => {
  it('keeps the 3 most recently activated releases and never the active one', async () => {
    for (const [index, id] of ['r1', 'r2', 'r3', 'r4', 'r5'].entries()) release(id, 100 - index);
    await activateRelease(paths, 'r1', log); // the oldest, reactivated: a rollback
    await pruneReleases(paths, 3, log);
    expect(readdirSync(paths.releasesDir).sort()).toEqual(['r1', 'r4', 'r5']);
  });

  it('removes staging dirs a crashed run left, and nothing else', async () => {
    release('r1');
    mkdirSync(join(paths.releasesDir, '.staging-abc123/manifests'), { recursive: true });
    await removeStaleStaging(paths);
    expect(readdirSync(paths.releasesDir)).toEqual(['r1']);
    expect(existsSync(join(paths.releasesDir, 'r1/manifests/site.pp'))).toBe(true);
  });
});
