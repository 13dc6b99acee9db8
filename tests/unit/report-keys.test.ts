import { describe, it, expect } from '@jest/globals';
import { reportKey, latestKey, registryKey, normalizePrefix, compactTimestamp } from '../../agent/report/keys.js';

const report = { started_at: '2026-11-25T23:59:58.123Z', run_id: '0b7c2f4e-1a2b-4c3d-8e9f-001122334455', instance: { id: 'i-0abc', hostname: 'h', private_ip: null } };

describe('S3 keys (SPEC §4)', () => {
  it('partitions reports by UTC date, then instance', () => {
    expect(reportKey('', report)).toBe('reports/dt=2026-11-25/i-0abc/20261125T235958Z-0b7c2f4e-1a2b-4c3d-8e9f-001122334455.json');
  });

  it('puts latest and registry entries under the prefix', () => {
    expect(latestKey('fleet', 'i-0abc')).toBe('fleet/latest/i-0abc.json');
    expect(registryKey('fleet/', 'i-0abc')).toBe('fleet/registry/i-0abc.json');
  });

  it('normalizes prefixes', () => {
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('a')).toBe('a/');
    expect(normalizePrefix('a/')).toBe('a/');
  });

  it('compacts timestamps', () => {
    expect(compactTimestamp('2026-01-02T03:04:05.678Z')).toBe('20260102T030405Z');
  });
});
