import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePuppetReport, scrubContent } from '../../agent/apply/parse-report.js';
import { AgentError } from '../../agent/errors.js';

const sample = (name: string) => readFileSync(new URL(`../fixtures/puppet-reports/${name}.yaml`, import.meta.url), 'utf8');
const MOTD = 'File[/tmp/agent-capture/sandbox/managed/motd]';

describe('parsePuppetReport on real Puppet 7 reports', () => {
  it('reads a first run: every managed file out of sync and changed', () => {
    const report = parsePuppetReport(sample('changed'));
    expect(report.puppetVersion).toMatch(/^7\./);
    expect(report.status).toBe('changed');
    expect(report.resources.map((resource) => resource.resource)).toEqual(
      expect.arrayContaining(['File[/tmp/agent-capture/sandbox/managed]', MOTD, 'File[/tmp/agent-capture/sandbox/managed/role]']),
    );
    expect(report.resources.every((resource) => resource.outOfSync && resource.changed)).toBe(true);
  });

  it("leaves out Puppet's own Schedule and Filebucket resources", () => {
    const types = new Set(parsePuppetReport(sample('unchanged')).resources.map((resource) => resource.type));
    expect(types).toEqual(new Set(['File']));
  });

  it('reads noop drift: out of sync, not changed, noop_pending, a content event with checksums only', () => {
    const report = parsePuppetReport(sample('noop-drift'));
    expect(report.noop).toBe(true);
    expect(report.noopPending).toBe(true);
    const motd = report.resources.find((resource) => resource.resource === MOTD)!;
    expect(motd).toMatchObject({ outOfSync: true, changed: false, file: '/tmp/agent-capture/tree/manifests/site.pp', line: 11 });
    expect(motd.events).toEqual([
      expect.objectContaining({ property: 'content', status: 'noop', previous_value: expect.stringMatching(/^\{sha256\}[0-9a-f]{64}$/) }),
    ]);
    // Puppet writes the desired checksum base64-encoded; the report carries it decoded
    expect(motd.events[0]!.desired_value).toMatch(/^\{sha256\}[0-9a-f]{64}$/);
  });

  it('reads a failed resource and its err log line', () => {
    const report = parsePuppetReport(sample('failure'));
    const failed = report.resources.filter((resource) => resource.failed);
    expect(failed.map((resource) => resource.resource)).toEqual(['Exec[always-fails]']);
    expect(report.errors.join('\n')).toMatch(/always-fails/);
  });

  it.each([
    ['truncated YAML', sample('changed').slice(0, 2000).replace(/\n[^\n]*$/, '\n  - [unclosed'), /not valid YAML/],
    ['a list instead of a report', '- 1\n- 2\n', /the report: expected a mapping, got a list/],
    ['resource_statuses of the wrong type', 'status: changed\nresource_statuses: 42\n', /resource_statuses: expected a mapping, got number/],
    ['events that are not a list', 'resource_statuses:\n  File[/x]:\n    events: nope\n', /File\[\/x\]\.events: expected a list/],
  ])('refuses %s with a clear AgentError', (_name, text, message) => {
    let error: unknown;
    try {
      parsePuppetReport(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('puppet');
    expect((error as Error).message).toMatch(message);
  });
});

describe('scrubContent', () => {
  it('keeps checksums, decodes base64 checksums and digests anything else', () => {
    expect(scrubContent('{md5}abc123')).toBe('{md5}abc123');
    expect(scrubContent(Buffer.from('{sha256}00ff').toString('base64'))).toBe('{sha256}00ff');
    const digested = scrubContent('password=hunter2\n');
    expect(digested).toMatch(/^\{sha256\}[0-9a-f]{64}$/);
    expect(String(digested)).not.toContain('hunter2');
  });
});
