import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePuppetReport, type ParsedPuppetReport, type PuppetResource } from '../../agent/apply/parse-report.js';
import { classifyDrift, emptyDriftState, type DriftState } from '../../agent/report/drift.js';

const sample = (name: string) => parsePuppetReport(readFileSync(new URL(`../fixtures/puppet-reports/${name}.yaml`, import.meta.url), 'utf8'));
const R1 = 'release-1';
const R2 = 'release-2';

function resource(name: string, desired: string | null, status: 'success' | 'noop' = 'success'): PuppetResource {
  const events = desired === null ? [] : [{ property: 'content', previous_value: '{sha256}00', desired_value: desired, status, message: 'm' }];
  return { resource: name, type: 'File', title: name, file: 'site.pp', line: 1, outOfSync: desired !== null, changed: status === 'success' && desired !== null, failed: false, skipped: false, events };
}
const report = (...resources: PuppetResource[]): ParsedPuppetReport => ({ puppetVersion: '7', status: 'changed', noop: false, noopPending: false, resources, errors: [] });

/** Run a sequence of reports through classification, threading the state like the agent does. */
function sequence(steps: Array<{ parsed: ParsedPuppetReport; mode?: 'enforce' | 'noop'; release?: string }>) {
  let state: DriftState = emptyDriftState();
  return steps.map(({ parsed, mode = 'enforce', release = R1 }) => {
    const result = classifyDrift(parsed, state, { mode, releaseId: release });
    state = result.nextState;
    return result.drift;
  });
}

describe('classifyDrift on the captured Puppet runs', () => {
  it('a first run is all intentional, a drifted file found by noop is corrective, its correction too', () => {
    const [first, second, noop, corrected] = sequence([
      { parsed: sample('changed') },
      { parsed: sample('unchanged') },
      { parsed: sample('noop-drift'), mode: 'noop' },
      { parsed: sample('corrected') },
    ]);
    expect(first).toMatchObject({ out_of_sync: 3, intentional: 3, corrective: 0, resources_total: 3 });
    expect(second).toMatchObject({ out_of_sync: 0, corrective: 0, intentional: 0, resources: [] });
    // the file was created with `ensure`; its content drifted later under the same release: drift
    expect(noop).toMatchObject({ out_of_sync: 1, corrective: 1, intentional: 0 });
    expect(noop!.resources[0]).toMatchObject({ corrective_change: true, flapping: false });
    expect(corrected).toMatchObject({ out_of_sync: 1, corrective: 1, intentional: 0 });
  });

  it('a new desired value from a new release is intentional', () => {
    const drifts = sequence([{ parsed: sample('changed') }, { parsed: sample('corrected') }, { parsed: sample('intentional'), release: R2 }]);
    expect(drifts[2]).toMatchObject({ out_of_sync: 1, intentional: 1, corrective: 0 });
  });

  it('counts failed resources', () => {
    const [failure] = sequence([{ parsed: sample('failure') }]);
    expect(failure!.failed).toBe(1);
    expect(failure!.resources.find((r) => r.failed)?.resource).toBe('Exec[always-fails]');
  });
});

describe('classifyDrift rules', () => {
  it('the same desired value enforced again is corrective even across releases', () => {
    const drifts = sequence([
      { parsed: report(resource('File[/a]', 'v1')) },
      { parsed: report(resource('File[/a]', 'v1')), release: R2 },
    ]);
    expect(drifts[1]).toMatchObject({ corrective: 1, intentional: 0 });
  });

  it('a changed desired value is intentional even under the same release', () => {
    const drifts = sequence([{ parsed: report(resource('File[/a]', 'v1')) }, { parsed: report(resource('File[/a]', 'v2')) }]);
    expect(drifts[1]).toMatchObject({ corrective: 0, intentional: 1 });
  });

  it('noop runs do not teach new desired values', () => {
    const drifts = sequence([
      { parsed: report(resource('File[/a]', 'v1')) },
      { parsed: report(resource('File[/a]', 'v2', 'noop')), mode: 'noop', release: R2 },
      { parsed: report(resource('File[/a]', 'v2', 'noop')), mode: 'noop', release: R2 },
    ]);
    expect(drifts[1]).toMatchObject({ intentional: 1 });
    expect(drifts[2]).toMatchObject({ intentional: 1 });
  });

  it('a resource corrected in 3 of the last 5 runs is flapping', () => {
    const fix = report(resource('File[/a]', 'v1'));
    const calm = report(resource('File[/a]', null));
    const drifts = sequence([{ parsed: fix }, { parsed: fix }, { parsed: calm }, { parsed: fix }, { parsed: fix }]);
    expect(drifts.map((drift) => drift.flapping)).toEqual([0, 0, 0, 0, 1]);
    expect(drifts[4]!.resources[0]?.flapping).toBe(true);
  });

  it('corrections older than the last 5 runs no longer count', () => {
    const fix = report(resource('File[/a]', 'v1'));
    const calm = report(resource('File[/a]', null));
    const drifts = sequence([{ parsed: fix }, { parsed: fix }, { parsed: fix }, { parsed: calm }, { parsed: calm }, { parsed: calm }, { parsed: fix }]);
    expect(drifts[6]!.flapping).toBe(0);
  });
});
