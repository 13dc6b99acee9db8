import { describe, it, expect } from '@jest/globals';
import { reportKey, latestKey, registryKey, normalizePrefix, compactTimestamp, utcDate, isIsoInstant } from '../../agent/report/keys.js';

const RUN_ID = '0b7c2f4e-1a2b-4c3d-8e9f-001122334455';
const report = (startedAt: string) => ({ started_at: startedAt, run_id: RUN_ID, instance: { id: 'i-0abc', hostname: 'h', private_ip: null } });

describe('report keys (SPEC §4)', () => {
  it('partitions reports by UTC date, then instance, named by start time and run id', () => {
    expect(reportKey('', report('2026-11-25T23:59:58.123Z'))).toBe(`reports/dt=2026-11-25/i-0abc/20261125T235958Z-${RUN_ID}.json`);
  });

  it('puts a report that started late in the evening west of Greenwich into the next UTC day', () => {
    expect(reportKey('fleet', report('2026-11-25T23:30:00-05:00'))).toBe(`fleet/reports/dt=2026-11-26/i-0abc/20261126T043000Z-${RUN_ID}.json`);
  });

  it('gives the same key to the same report every time, so a retried upload overwrites itself', () => {
    expect(reportKey('p/', report('2026-01-02T03:04:05.678Z'))).toBe(reportKey('p', report('2026-01-02T03:04:05.678Z')));
  });

  it('puts latest and registry entries under the prefix', () => {
    expect(latestKey('', 'i-0abc')).toBe('latest/i-0abc.json');
    expect(latestKey('fleet', 'i-0abc')).toBe('fleet/latest/i-0abc.json');
    expect(registryKey('fleet/', 'i-0abc')).toBe('fleet/registry/i-0abc.json');
  });
});

describe('prefix normalisation', () => {
  it.each([
    ['', ''],
    ['fleet', 'fleet/'],
    ['fleet/', 'fleet/'],
    ['a/b', 'a/b/'],
    ['/fleet', 'fleet/'],
  ])('%j becomes %j', (given, expected) => {
    expect(normalizePrefix(given)).toBe(expected);
  });
});

describe('timestamps in keys', () => {
  it('compacts to YYYYMMDDTHHMMSSZ in UTC, dropping milliseconds', () => {
    expect(compactTimestamp('2026-01-02T03:04:05.678Z')).toBe('20260102T030405Z');
    expect(compactTimestamp('2026-01-02T03:04:05+02:00')).toBe('20260102T010405Z');
  });

  it('takes the partition date in UTC', () => {
    expect(utcDate('2026-01-01T00:30:00+01:00')).toBe('2025-12-31');
  });

  it('refuses a started_at that is not an ISO time instead of inventing a key', () => {
    expect(isIsoInstant('2026-11-25T07:00:00Z')).toBe(true);
    expect(isIsoInstant('Nov 25 2026')).toBe(false);
    expect(isIsoInstant('2026-13-45T99:00:00Z')).toBe(false);
    expect(() => reportKey('', report('yesterday'))).toThrow(/expected an ISO 8601 time/);
  });
});
