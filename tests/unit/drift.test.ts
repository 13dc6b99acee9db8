import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePuppetReport, type ParsedPuppetReport, type PuppetEvent, type PuppetResource } from '../../agent/apply/parse-report.js';
import { classifyDrift, emptyDriftState, type DriftState } from '../../agent/report/drift.js';
import { validDriftState } from '../../agent/report/drift-state.js';
import type { Mode } from '../../agent/report/types.js';

const sample = (name: string) => parsePuppetReport(readFileSync(new URL(`../fixtures/puppet-reports/${name}.yaml`, import.meta.url), 'utf8'));
const MOTD = 'File[/tmp/agent-capture/sandbox/managed/motd]';
const R1 = 'release-1';
const R2 = 'release-2';

type Fields = Partial<Omit<PuppetResource, 'events'>> & { events?: Array<Partial<PuppetEvent>> };
/** A resource; `desired` = one content event with that desired value, null = in sync. */
function resource(name: string, desired: string | null, status: PuppetEvent['status'] = 'success', fields: Fields = {}): PuppetResource {
  const events = (fields.events ?? (desired === null ? [] : [{ property: 'content', desired_value: desired }])).map((event) => ({
    property: 'content', previous_value: '{sha256}00', desired_value: desired, status, message: 'changed', ...event,
  }));
  const outOfSync = events.length > 0;
  return { resource: name, type: 'File', title: name, file: 'site.pp', line: 1, outOfSync, changed: outOfSync && status === 'success', failed: false, skipped: false, corrective: false, ...fields, events };
}
const report = (...resources: PuppetResource[]): ParsedPuppetReport => ({
  puppetVersion: '7.23.0', status: 'changed', noop: false, noopPending: false, resources, logs: [], errors: [], metrics: { resources: {}, events: {}, totalSeconds: null },
});

/** Runs reports through classification in order, threading the state as the agent does. */
function sequence(steps: Array<{ parsed: ParsedPuppetReport; mode?: Mode; release?: string }>, start: DriftState = emptyDriftState()) {
  let state = start;
  const drifts = steps.map(({ parsed, mode = 'enforce', release = R1 }) => {
    const result = classifyDrift(parsed, state, { mode, releaseId: release });
    state = result.nextState;
    return result.drift;
  });
  return { drifts, state };
}

describe('classifyDrift on the captured Puppet runs', () => {
  it('a first run is intentional; content drift on a file created with ensure is corrective, in noop and when corrected', () => {
    const { drifts } = sequence([
      { parsed: sample('changed') },
      { parsed: sample('unchanged') },
      { parsed: sample('noop-drift'), mode: 'noop' },
      { parsed: sample('corrected') },
    ]);
    const [first, second, noop, corrected] = drifts;
    expect(first).toMatchObject({ resources_total: 4, out_of_sync: 4, intentional: 4, corrective: 0, failed: 0 });
    expect(second).toMatchObject({ resources_total: 4, out_of_sync: 0, corrective: 0, intentional: 0, resources: [] });
    expect(noop).toMatchObject({ out_of_sync: 1, corrective: 1, intentional: 0, flapping: 0 });
    expect(noop!.resources).toEqual([expect.objectContaining({ resource: MOTD, corrective_change: true, flapping: false, failed: false })]);
    expect(corrected).toMatchObject({ out_of_sync: 1, corrective: 1, intentional: 0 });
  });

  it('the content checksum of a created file is remembered, so its drift is corrective even under a new release', () => {
    const { drifts } = sequence([{ parsed: sample('changed') }, { parsed: sample('corrected'), release: R2 }]);
    expect(drifts[1]).toMatchObject({ corrective: 1, intentional: 0 });
  });

  it('a new desired value from a new release is intentional', () => {
    const { drifts } = sequence([{ parsed: sample('changed') }, { parsed: sample('corrected') }, { parsed: sample('intentional'), release: R2 }]);
    expect(drifts[2]).toMatchObject({ out_of_sync: 1, intentional: 1, corrective: 0 });
  });

  it('lists and counts a failed resource, not the one skipped after it', () => {
    const { drifts } = sequence([{ parsed: sample('failure') }]);
    expect(drifts[0]).toMatchObject({ failed: 1, out_of_sync: 1, resources_total: 6 });
    expect(drifts[0]!.resources.map((entry) => [entry.resource, entry.failed])).toEqual([['Exec[always-fails]', true]]);
  });
});

describe('classifyDrift rules', () => {
  it('the same desired value enforced again is corrective, even across releases', () => {
    const { drifts } = sequence([{ parsed: report(resource('File[/a]', 'v1')) }, { parsed: report(resource('File[/a]', 'v1')), release: R2 }]);
    expect(drifts[1]).toMatchObject({ corrective: 1, intentional: 0 });
  });

  it('a changed desired value is intentional, even under the same release', () => {
    const { drifts } = sequence([{ parsed: report(resource('File[/a]', 'v1')) }, { parsed: report(resource('File[/a]', 'v2')) }]);
    expect(drifts[1]).toMatchObject({ corrective: 0, intentional: 1 });
  });

  it('a property never enforced is corrective under the same release and intentional under a new one', () => {
    const mode = (value: string) => resource('File[/a]', null, 'success', { events: [{ property: 'mode', desired_value: value }] });
    const start = sequence([{ parsed: report(resource('File[/a]', 'v1')) }]).state;
    expect(sequence([{ parsed: report(mode('0644')) }], start).drifts[0]).toMatchObject({ corrective: 1 });
    expect(sequence([{ parsed: report(mode('0644')), release: R2 }], start).drifts[0]).toMatchObject({ intentional: 1 });
  });

  it('a resource the agent has never seen is intentional', () => {
    const { drifts } = sequence([{ parsed: report(resource('File[/a]', null)) }, { parsed: report(resource('File[/b]', 'v1')) }]);
    expect(drifts[1]).toMatchObject({ intentional: 1, corrective: 0 });
  });

  it('an Exec or Notify that runs every time is never drift', () => {
    const exec = resource('Exec[x]', null, 'success', { type: 'Exec', events: [{ property: 'returns', previous_value: 'notrun', desired_value: ['0'] }] });
    const notify = resource('Notify[hi]', null, 'success', { type: 'Notify', events: [{ property: 'message', previous_value: 'absent', desired_value: 'hi' }] });
    const { drifts } = sequence([{ parsed: report(exec, notify) }, { parsed: report(exec, notify) }, { parsed: report(exec, notify) }]);
    expect(drifts[2]).toMatchObject({ out_of_sync: 2, intentional: 2, corrective: 0, flapping: 0 });
  });

  it('noop runs teach nothing: a new value stays intentional until enforced', () => {
    const { drifts, state } = sequence([
      { parsed: report(resource('File[/a]', 'v1')) },
      { parsed: report(resource('File[/a]', 'v2', 'noop')), mode: 'noop', release: R2 },
      { parsed: report(resource('File[/a]', 'v2', 'noop')), mode: 'noop', release: R2 },
    ]);
    expect(drifts.slice(1)).toEqual([expect.objectContaining({ intentional: 1 }), expect.objectContaining({ intentional: 1 })]);
    expect(state.release_id).toBe(R1);
  });

  it('a failed resource teaches nothing, so its retry is not drift', () => {
    const failing = resource('Exec[x]', null, 'failure', { type: 'Exec', failed: true, events: [{ property: 'unless', desired_value: 'v' }] });
    const skipped = resource('File[/after]', null, 'success', { skipped: true });
    const { drifts, state } = sequence([{ parsed: report(failing, skipped) }, { parsed: report(failing) }]);
    expect(drifts[1]).toMatchObject({ failed: 1, corrective: 0, intentional: 1 });
    expect(state.resources).toEqual({});
  });

  it('a run whose whole catalog failed leaves the state alone', () => {
    const { state: before } = sequence([{ parsed: report(resource('File[/a]', 'v1')) }]);
    const { state: after } = sequence([{ parsed: { ...report(), status: 'failed' }, release: R2 }], before);
    expect(after).toEqual(before);
  });

  it('a resource corrected in 3 of the last 5 enforce runs is flapping', () => {
    const fix = report(resource('File[/a]', 'v1'));
    const calm = report(resource('File[/a]', null));
    const { drifts } = sequence([{ parsed: fix }, { parsed: fix }, { parsed: calm }, { parsed: fix }, { parsed: fix }]);
    expect(drifts.map((drift) => drift.flapping)).toEqual([0, 0, 0, 0, 1]);
    expect(drifts[4]!.resources[0]).toMatchObject({ corrective_change: true, flapping: true });
  });

  it('corrections older than the last 5 runs no longer count', () => {
    const fix = report(resource('File[/a]', 'v1'));
    const calm = report(resource('File[/a]', null));
    const { drifts } = sequence([{ parsed: fix }, { parsed: fix }, { parsed: fix }, { parsed: calm }, { parsed: calm }, { parsed: calm }, { parsed: fix }]);
    expect(drifts[2]!.flapping).toBe(0); // run 1 only taught the value: 2 corrections so far
    expect(drifts[6]!.flapping).toBe(0);
  });

  it('noop runs do not fill the flapping window, but a noop run shows what enforcing would make flapping', () => {
    const fix = report(resource('File[/a]', 'v1'));
    const look = report(resource('File[/a]', 'v1', 'noop'));
    const { drifts, state } = sequence([{ parsed: fix }, { parsed: fix }, { parsed: look, mode: 'noop' }, { parsed: look, mode: 'noop' }, { parsed: fix }]);
    expect(drifts.map((drift) => drift.flapping)).toEqual([0, 0, 0, 0, 0]);
    expect(state.recent_corrections).toEqual([[], ['File[/a]'], ['File[/a]']]);
    expect(sequence([{ parsed: look, mode: 'noop' }], state).drifts[0]!.flapping).toBe(1);
  });
});

describe('validDriftState', () => {
  it('loads a foreign or damaged state as empty or as what is still usable', () => {
    expect(validDriftState(undefined)).toEqual(emptyDriftState());
    expect(validDriftState({ version: 2, resources: {} })).toEqual(emptyDriftState());
    expect(
      validDriftState({ version: 1, release_id: 7, resources: { 'File[/a]': { props: { content: 'd', mode: 3 } }, 'File[/b]': 'x' }, recent_corrections: [['File[/a]', 1], 'x'] }),
    ).toEqual({ version: 1, release_id: null, resources: { 'File[/a]': { props: { content: 'd' } } }, recent_corrections: [['File[/a]']] });
  });
});
