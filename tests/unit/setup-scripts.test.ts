import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';

/** The set-up a newcomer runs (README "Try it"): checks on the scripts themselves (issue #16, items 1 and 10). */
const REPO = new URL('../..', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${REPO}${path}`, 'utf8');
const commands = (script: string) => script.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));

describe('the set-up scripts', () => {
  it('get a supported Node through the one shared script: the demo, CI and the image install', () => {
    for (const script of ['tests/demo/run-demo.sh', '.ci/run']) expect(read(script)).toMatch(/\$\(bash ami\/ensure-node\.sh\)/);
    expect(read('ami/install.sh')).toMatch(/ensure-node\.sh" --min 22\.0/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(read('ami/ensure-node.sh')).toContain(`min=${engines.replace('>=', '')}`);
  });

  it('CI builds dist/ once: npm ci, and no npm script that rebuilds', () => {
    const ci = commands(read('.ci/run'));
    expect(ci.filter((line) => /\bnpm ci\b/.test(line))).toHaveLength(1);
    expect(ci.filter((line) => /\bnpm (test|run (build|test|bench|package))/.test(line))).toEqual([]);
    expect(ci.some((line) => line.includes('node dist/bench/main.js --quick'))).toBe(true);
  });

  it('CI and the demo put `agent` on PATH', () => {
    for (const script of ['tests/demo/run-demo.sh', '.ci/run']) expect(read(script)).toMatch(/ln -sfn "\$PWD\/dist\/agent\/main\.js" \/usr\/local\/bin\/agent/);
  });

  it('jest runs without its VM-modules ExperimentalWarning', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    for (const text of [pkg.scripts.test!, pkg.scripts['test:unit']!, read('tests/faults/run.sh'), read('.ci/run')]) {
      for (const line of text.split('\n').filter((entry) => entry.includes('--experimental-vm-modules'))) expect(line).toContain('--disable-warning=ExperimentalWarning');
    }
  });

  it('every dependency install script is reviewed in allowScripts (npm 11.16+ warns otherwise)', async () => {
    const version = (await execa('npm', ['--version'])).stdout.trim().split('.').map(Number);
    if (version[0]! < 11 || (version[0] === 11 && version[1]! < 16)) return; // older npm has no allowScripts
    const pending = await execa('npm', ['install-scripts', 'ls'], { cwd: REPO });
    expect(pending.stdout).toContain('No packages with unreviewed install scripts');
  });
});
