import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePuppetReport, scrubContent } from '../../agent/apply/parse-report.js';
import { AgentError } from '../../agent/errors.js';

// Real Puppet 7.23 reports of the sandbox fixture (tests/fixtures/puppet-reports/capture.sh)
const sample = (name: string) => readFileSync(new URL(`../fixtures/puppet-reports/${name}.yaml`, import.meta.url), 'utf8');
const SANDBOX = '/tmp/agent-capture/sandbox/managed';
const MOTD = `File[${SANDBOX}/motd]`;
const CHECKSUM = /^\{sha256\}[0-9a-f]{64}$/;
const WELCOME_V1 = '{sha256}f8f480b3f46a4628e281f26e73b61fd9385fa3ec7094109499651afab62e9292';

describe('parsePuppetReport on real Puppet 7 reports', () => {
  it('reads a first run: every managed file out of sync and changed, module resources included', () => {
    const report = parsePuppetReport(sample('changed'));
    expect(report).toMatchObject({ puppetVersion: '7.23.0', status: 'changed', noop: false, noopPending: false });
    expect(report.resources.map((resource) => resource.resource).sort()).toEqual(
      [`File[${SANDBOX}]`, `File[${SANDBOX}/extra]`, MOTD, `File[${SANDBOX}/role]`].sort(),
    );
    expect(report.resources.every((resource) => resource.outOfSync && resource.changed && !resource.failed)).toBe(true);
    expect(report.resources.find((resource) => resource.title === `${SANDBOX}/extra`)).toMatchObject({
      type: 'File',
      file: '/tmp/agent-capture/tree/modules/sandbox_extra/manifests/init.pp',
      line: 5,
      corrective: false,
    });
    expect(report.resources.find((resource) => resource.resource === MOTD)!.events).toEqual([
      { property: 'ensure', previous_value: 'absent', desired_value: 'file', status: 'success', message: `defined content as '${WELCOME_V1}'` },
    ]);
  });

  it("leaves out Puppet's own Schedule and Filebucket resources, which its metrics count", () => {
    const report = parsePuppetReport(sample('unchanged'));
    expect(new Set(report.resources.map((resource) => resource.type))).toEqual(new Set(['File']));
    expect(report.resources.some((resource) => resource.outOfSync)).toBe(false);
    expect(report.metrics.resources).toMatchObject({ total: 11, out_of_sync: 0, failed: 0 });
    expect(report.metrics.totalSeconds).toEqual(expect.any(Number));
  });

  it('reads noop drift: out of sync, not changed, noop_pending, checksums only', () => {
    const report = parsePuppetReport(sample('noop-drift'));
    expect(report).toMatchObject({ status: 'unchanged', noop: true, noopPending: true });
    const motd = report.resources.find((resource) => resource.resource === MOTD)!;
    expect(motd).toMatchObject({ outOfSync: true, changed: false, file: '/tmp/agent-capture/tree/manifests/site.pp', line: 11 });
    expect(motd.events).toEqual([
      expect.objectContaining({ property: 'content', status: 'noop', previous_value: expect.stringMatching(CHECKSUM), desired_value: WELCOME_V1 }),
    ]);
  });

  it("decodes Puppet's base64 desired checksum of a corrected file", () => {
    const motd = parsePuppetReport(sample('corrected')).resources.find((resource) => resource.resource === MOTD)!;
    expect(motd).toMatchObject({ outOfSync: true, changed: true });
    expect(motd.events[0]).toMatchObject({ property: 'content', status: 'success', desired_value: WELCOME_V1 });
  });

  it('reads a failed resource, the one skipped after it, and the err log lines', () => {
    const report = parsePuppetReport(sample('failure'));
    expect(report.status).toBe('failed');
    expect(report.resources.filter((resource) => resource.failed).map((resource) => resource.resource)).toEqual(['Exec[always-fails]']);
    expect(report.resources.find((resource) => resource.failed)!.events[0]).toMatchObject({ property: 'returns', status: 'failure', desired_value: ['0'] });
    expect(report.resources.filter((resource) => resource.skipped).map((resource) => resource.resource)).toEqual([`File[${SANDBOX}/after-failure]`]);
    expect(report.logs).toContainEqual(expect.objectContaining({ level: 'err', source: '/Stage[main]/Main/Exec[always-fails]/returns' }));
    expect(report.errors.join('\n')).toMatch(/Exec\[always-fails\]\/returns: change from 'notrun' to \['0'\] failed/);
  });

  it('never carries file contents, only checksums', () => {
    for (const name of ['changed', 'noop-drift', 'corrected', 'intentional']) {
      const text = JSON.stringify(parsePuppetReport(sample(name)));
      expect(text).not.toMatch(/welcome|hacked/);
      expect(text).not.toMatch(/e3NoYTI1Nn/); // base64 of "{sha256}"
    }
  });
});

function parseError(text: string): AgentError {
  try {
    parsePuppetReport(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('puppet');
    return error as AgentError;
  }
  throw new Error('expected parsePuppetReport to throw');
}

describe('parsePuppetReport on broken input', () => {
  it('refuses a report cut short at any point with an AgentError, never a TypeError', () => {
    const full = sample('failure');
    for (let cut = 0; cut < full.length - 2; cut += 97) {
      expect(parseError(full.slice(0, cut)).message).toMatch(/^Puppet report is not valid/);
    }
  });

  it('says the report was truncated when it ends before its last key', () => {
    const full = sample('changed');
    expect(parseError(full.slice(0, full.indexOf('corrective_change: false\ncatalog_uuid'))).message).toMatch(
      /ends before its last key cached_catalog_status \(truncated\?\)/,
    );
  });

  const TAIL = 'cached_catalog_status: not_used\n';
  it.each([
    ['an empty file', '', /the report: expected a mapping, got nothing/],
    ['a list instead of a report', '- 1\n- 2\n', /the report: expected a mapping, got a list/],
    ['a status that is not text', `status: [1]\nresource_statuses: {}\n${TAIL}`, /status: expected a string, got a list/],
    ['resource_statuses of the wrong type', `status: changed\nresource_statuses: 42\n${TAIL}`, /resource_statuses: expected a mapping, got number/],
    ['a resource that is not a mapping', `status: changed\nresource_statuses:\n  File[/x]: yes\n${TAIL}`, /resource_statuses\.File\[\/x\]: expected a mapping, got string/],
    ['events that are not a list', `status: changed\nresource_statuses:\n  File[/x]:\n    events: nope\n${TAIL}`, /File\[\/x\]\.events: expected a list, got string/],
    ['an event that is not a mapping', `status: changed\nresource_statuses:\n  File[/x]:\n    events: [3]\n${TAIL}`, /File\[\/x\]\.events\.0: expected a mapping, got number/],
    ['logs that are not a list', `status: changed\nlogs: 7\nresource_statuses: {}\n${TAIL}`, /logs: expected a list, got number/],
    ['invalid YAML', `status: changed\nresource_statuses: {a: [\n${TAIL}`, /not valid YAML/],
  ])('refuses %s with a clear reason', (_name, text, message) => {
    expect(parseError(text).message).toMatch(message);
  });

  it('accepts a minimal well-formed report', () => {
    expect(parsePuppetReport(`status: unchanged\nresource_statuses: {}\n${TAIL}`)).toMatchObject({ status: 'unchanged', resources: [], logs: [], puppetVersion: null });
  });
});

describe('scrubContent', () => {
  it('keeps checksums, decodes base64 checksums and digests anything else', () => {
    expect(scrubContent('{md5}abc123')).toBe('{md5}abc123');
    expect(scrubContent(Buffer.from('{sha256}00ff').toString('base64'))).toBe('{sha256}00ff');
    expect(scrubContent('absent')).toBe('absent');
    expect(scrubContent(null)).toBeNull();
    const digested = scrubContent('password=hunter2\n');
    expect(digested).toMatch(CHECKSUM);
    expect(String(digested)).not.toContain('hunter2');
    expect(scrubContent('password=hunter2\n')).toBe(digested); // equal contents still compare equal
  });
});
