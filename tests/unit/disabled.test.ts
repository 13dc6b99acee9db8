import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disabledState, isDisabledAt, readDisabled, writeDisabled } from '../../agent/run/disabled.js';

const now = new Date('2026-11-25T12:00:00Z');

describe('disable', () => {
  it('records reason, who, when and an optional expiry', () => {
    expect(disabledState({ reason: 'db migration', by: 'alice', now, forMs: 3_600_000 })).toEqual({
      reason: 'db migration',
      by: 'alice',
      at: '2026-11-25T12:00:00.000Z',
      until: '2026-11-25T13:00:00.000Z',
    });
  });

  it('holds until its expiry, then lifts itself', () => {
    const state = disabledState({ reason: 'r', by: 'b', now, forMs: 60_000 });
    expect(isDisabledAt(state, new Date('2026-11-25T12:00:59Z'))).toBe(true);
    expect(isDisabledAt(state, new Date('2026-11-25T12:01:00Z'))).toBe(false);
    expect(isDisabledAt(disabledState({ reason: 'r', by: 'b', now, forMs: null }), new Date('2030-01-01'))).toBe(true);
  });

  it('removes an expired disable file when it reads it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'agent-disabled-')), 'disabled');
    await writeDisabled(file, disabledState({ reason: 'r', by: 'b', now, forMs: 1000 }));
    expect(await readDisabled(file, now)).not.toBeNull();
    expect(await readDisabled(file, new Date('2026-11-25T12:00:02Z'))).toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it('treats an unreadable disable file as disabled rather than guessing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'agent-disabled-')), 'disabled');
    writeFileSync(file, '{not json');
    expect((await readDisabled(file, now))?.reason).toMatch(/unreadable/);
  });
});
