import { describe, it, expect } from '@jest/globals';
import { execa } from 'execa';
describe('toolchain', () => {
  it('runs ESM execa under jest', async () => {
    const r = await execa('echo', ['hi']);
    expect(r.stdout).toBe('hi');
  });
});
