import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { spoolReport, listSpool, spoolStats, spoolEntryTime, parseSpooledReport, serializeReport } from '../../agent/report/spool.js';
import { keepLocalCopy, listLocalCopies } from '../../agent/report/local-copies.js';
import { shouldReplaceLatest } from '../../agent/report/deliver.js';
import { statePaths, type StatePaths } from '../../agent/run/paths.js';
import type { Report } from '../../agent/report/types.js';
import { sampleReport } from '../helpers/reports.js';

let paths: StatePaths;
let logged: Array<Record<string, unknown>>;
const log = () => pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });

function report(startedAt: string, runId: string = randomUUID()): Report {
  return sampleReport(startedAt, { runId, instanceId: 'i-spool' });
}
const at = (minute: number) => `2026-11-25T07:${String(minute).padStart(2, '0')}:00.000Z`;

beforeEach(() => {
  logged = [];
  paths = statePaths({ state_dir: mkdtempSync(join(tmpdir(), 'agent-spool-')), stage_dir: '/nonexistent' });
});
afterEach(() => rmSync(paths.stateDir, { recursive: true, force: true }));

describe('the report spool', () => {
  it('writes the report as its exact JSON bytes under <YYYYMMDDTHHMMSSZ>-<run_id>.json', async () => {
    const written = report('2026-11-25T07:09:42.123Z', 'run-1');
    const { file } = await spoolReport(paths, written, 10, log());
    expect(file).toBe(join(paths.spoolDir, '20261125T070942Z-run-1.json'));
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(written, null, 2)}\n`);
    expect(readFileSync(file, 'utf8')).toBe(serializeReport(written));
  });

  it('lists entries oldest first whatever order they were written in', async () => {
    for (const minute of [5, 1, 9, 3]) await spoolReport(paths, report(at(minute)), 10, log());
    expect((await listSpool(paths)).map((entry) => spoolEntryTime(entry.name))).toEqual([1, 3, 5, 9].map((minute) => at(minute).replace('.000', '')));
  });

  it('leaves no temp file behind, and ignores one a crash left', async () => {
    await spoolReport(paths, report(at(0)), 10, log());
    expect(readdirSync(paths.spoolDir).filter((name) => name.startsWith('.'))).toEqual([]);
    writeFileSync(join(paths.spoolDir, '.20261125T070100Z-x.json.123.abcd.tmp'), '{"half');
    mkdirSync(join(paths.spoolDir, 'bad'));
    expect((await listSpool(paths)).map((entry) => entry.name)).toHaveLength(1);
  });

  it('drops the oldest entries past spool_max, counts them and logs an error', async () => {
    for (const minute of [0, 1, 2]) await spoolReport(paths, report(at(minute)), 5, log());
    const result = await spoolReport(paths, report(at(3)), 2, log());
    expect(result.dropped).toBe(2);
    expect((await listSpool(paths)).map((entry) => entry.name.slice(0, 16))).toEqual(['20261125T070200Z', '20261125T070300Z']);
    // the loss travels with the report that caused it, so the fleet view sees it
    expect(result.report.spool_dropped).toBe(2);
    expect(JSON.parse(readFileSync(result.file, 'utf8')).spool_dropped).toBe(2);
    const errors = logged.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ dropped: 2, spool_max: 2, oldest_dropped: expect.stringMatching(/^20261125T070000Z/) });
  });

  it('drops nothing and logs nothing within spool_max', async () => {
    for (const minute of [0, 1]) {
      const result = await spoolReport(paths, report(at(minute)), 2, log());
      expect(result.dropped).toBe(0);
      expect(result.report.spool_dropped).toBeUndefined();
    }
    expect(logged.filter((line) => line.level === 50)).toEqual([]);
  });

  it('keeps the report it just wrote even when its clock is behind the spooled ones, or spool_max is 0', async () => {
    await spoolReport(paths, report(at(30)), 5, log());
    const late = await spoolReport(paths, report(at(10)), 1, log());
    expect((await listSpool(paths)).map((entry) => entry.path)).toEqual([late.file]);
    const zero = await spoolReport(paths, report(at(40)), 0, log());
    expect((await listSpool(paths)).map((entry) => entry.path)).toEqual([zero.file]);
  });

  it('rewrites the same report in place instead of spooling it twice', async () => {
    const same = report(at(0));
    await spoolReport(paths, same, 10, log());
    await spoolReport(paths, same, 10, log());
    expect(await listSpool(paths)).toHaveLength(1);
  });

  it('tells status how many wait and since when, from the names alone', async () => {
    expect(await spoolStats(paths)).toEqual({ count: 0, oldest_at: null });
    for (const minute of [7, 4]) await spoolReport(paths, report(at(minute)), 10, log());
    writeFileSync(join(paths.spoolDir, '20261125T070100Z-corrupt.json'), 'not json');
    expect(await spoolStats(paths)).toEqual({ count: 3, oldest_at: '2026-11-25T07:01:00Z' });
  });
});

describe('reading a spooled entry back', () => {
  it('accepts what spoolReport wrote', () => {
    const written = report(at(0));
    expect(parseSpooledReport(Buffer.from(serializeReport(written)))).toEqual({ report: written });
  });

  it.each([
    ['{"truncated":', /not JSON/],
    ['null', /not a JSON object/],
    ['{"instance":{"id":"i"},"started_at":"2026-11-25T07:00:00Z"}', /run_id/],
    ['{"run_id":"r","started_at":"2026-11-25T07:00:00Z"}', /instance\.id/],
    ['{"run_id":"r","instance":{"id":"i"},"started_at":"soon"}', /started_at/],
  ])('says why %s is no report', (text, why) => {
    const parsed = parseSpooledReport(Buffer.from(text));
    expect('invalid' in parsed && parsed.invalid).toMatch(why);
  });
});

describe('latest/ only moves forward', () => {
  const newer = { started_at: at(10), instance: { id: 'i-1', hostname: 'h', private_ip: null } };
  it('replaces when nothing was recorded, or the report is not older', () => {
    expect(shouldReplaceLatest(undefined, newer)).toBe(true);
    expect(shouldReplaceLatest({ instance_id: 'i-1', started_at: at(10), run_id: 'r' }, newer)).toBe(true);
    expect(shouldReplaceLatest({ started_at: at(5), run_id: 'r' }, newer)).toBe(true);
  });

  it('keeps a newer latest/ from being overwritten by a late report', () => {
    expect(shouldReplaceLatest({ instance_id: 'i-1', started_at: at(20), run_id: 'r' }, newer)).toBe(false);
  });

  it('ignores a marker recorded for another instance id', () => {
    expect(shouldReplaceLatest({ instance_id: 'i-old', started_at: at(20), run_id: 'r' }, newer)).toBe(true);
  });
});

describe('local copies (report.keep_local)', () => {
  it('keeps the newest keep_local copies with the spooled bytes and returns the new one', async () => {
    let copy: string | null = null;
    for (const minute of [0, 1, 2, 3]) {
      const { file } = await spoolReport(paths, report(at(minute)), 10, log());
      copy = await keepLocalCopy(paths, file, 2);
      expect(readFileSync(copy!, 'utf8')).toBe(readFileSync(file, 'utf8'));
    }
    expect((await listLocalCopies(paths)).map((name) => name.slice(0, 16))).toEqual(['20261125T070200Z', '20261125T070300Z']);
  });

  it('with keep_local 0 keeps none, and removes those kept before', async () => {
    const { file } = await spoolReport(paths, report(at(0)), 10, log());
    await keepLocalCopy(paths, file, 5);
    expect(await keepLocalCopy(paths, file, 0)).toBeNull();
    expect(await listLocalCopies(paths)).toEqual([]);
  });

  it('never prunes the copy it just wrote, so AGENT_REPORT names a file that exists', async () => {
    await keepLocalCopy(paths, { name: '20261125T080000Z-new.json', bytes: '{}' }, 1);
    const late = await keepLocalCopy(paths, { name: '20261125T070000Z-late.json', bytes: '{}\n' }, 1);
    expect(readFileSync(late!, 'utf8')).toBe('{}\n');
    expect(await listLocalCopies(paths)).toEqual(['20261125T070000Z-late.json']);
  });
});
