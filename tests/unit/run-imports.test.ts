import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * agent/run/ reads as a pipeline: run-once.ts imports the stages, the stages share run-context.ts's
 * types, and no import (type-only ones included) leads back in a circle.
 */
const RUN = new URL('../../agent/run/', import.meta.url).pathname;
const files = readdirSync(RUN).filter((name) => name.endsWith('.ts'));
const imports = new Map(
  files.map((name) => {
    const text = readFileSync(join(RUN, name), 'utf8');
    const targets = [...text.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((match) => `${match[1]}.ts`);
    return [name, [...new Set(targets)]] as const;
  }),
);

function cycleFrom(start: string): string[] | null {
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    path.push(name);
    for (const next of imports.get(name) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return null;
  };
  return visit(start);
}

describe('agent/run imports', () => {
  it('have no circle', () => {
    for (const name of files) expect({ from: name, cycle: cycleFrom(name) }).toEqual({ from: name, cycle: null });
  });

  it('the stages take their shared types from run-context.ts, not from run-once.ts', () => {
    const importers = [...imports].filter(([, targets]) => targets.includes('run-once.ts')).map(([name]) => name);
    expect(importers).toEqual([]);
    expect(imports.get('run-once.ts')).toEqual(expect.arrayContaining(['source-stage.ts', 'apply-stage.ts', 'report-stage.ts', 'run-context.ts']));
  });
});
