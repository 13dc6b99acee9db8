import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { computeReleaseId } from '../../agent/release/release-id.js';

const entries = [
  { path: 'manifests/site.pp', sha256: 'a'.repeat(64), mode: '0644' },
  { path: 'files/ntp.conf', sha256: 'b'.repeat(64), mode: '0644' },
];

describe('computeReleaseId (SPEC §5)', () => {
  it('is the SHA-256 of the sorted `path NUL sha256 NUL mode LF` lines', () => {
    const NUL = '\u0000';
    const lines = [`files/ntp.conf${NUL}${'b'.repeat(64)}${NUL}0644\n`, `manifests/site.pp${NUL}${'a'.repeat(64)}${NUL}0644\n`];
    const expected = createHash('sha256')
      .update(lines.join(''))
      .digest('hex');
    expect(computeReleaseId(entries)).toBe(expected);
  });

  it('does not depend on the order files were found in', () => {
    expect(computeReleaseId([...entries].reverse())).toBe(computeReleaseId(entries));
  });

  it('changes with a mode alone', () => {
    expect(computeReleaseId([{ ...entries[0]!, mode: '0755' }, entries[1]!])).not.toBe(computeReleaseId(entries));
  });

  it('ignores the release metadata under .release/', () => {
    const signed = [...entries, { path: '.release/manifest.json', sha256: 'c'.repeat(64), mode: '0644' }];
    expect(computeReleaseId(signed)).toBe(computeReleaseId(entries));
  });

  it('sorts by bytes, not locale', () => {
    const upper = { path: 'Z', sha256: '1', mode: '0644' };
    const lower = { path: 'a', sha256: '2', mode: '0644' };
    const expected = createHash('sha256').update('Z\u00001\u00000644\na\u00002\u00000644\n').digest('hex');
    expect(computeReleaseId([lower, upper])).toBe(expected);
  });
});
