import { describe, it, expect } from '@jest/globals';
import { parseCommandLine, parseSample } from '../../agent/cli.js';
import { cleanDiff, diffFromLogs } from '../../agent/plan/diff.js';
import { buildPlanReport, type PlanReport, type PlanReportInput } from '../../agent/plan/report.js';
import { aggregatePlan } from '../../agent/plan/aggregate.js';
import { formatPlanView } from '../../agent/plan/format.js';
import { inPlanScope, outOfScopeReason } from '../../agent/plan/scope.js';
import { isExpired, parsePlan, serializePlan, PLAN_SCHEMA, type PlanDocument } from '../../agent/plan/document.js';
import { trustPlan } from '../../agent/plan/trust.js';
import { remoteCommand } from '../../agent/fleet/fan-out.js';
import { generateKeyPair, parsePrivateKey, parsePublicKey, signManifest } from '../../agent/release/signature.js';
import type { ParsedPuppetReport, PuppetResource } from '../../agent/apply/parse-report.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const PLAN: PlanDocument = {
  schema: PLAN_SCHEMA,
  plan_id: 'p-20261206T120000Z-abcdef',
  candidate: { release_id: 'a'.repeat(64), serial: 7 },
  roles: [],
  sample: null,
  created_at: NOW.toISOString(),
  expires_at: new Date(NOW.getTime() + 3_600_000).toISOString(),
  created_by: 'ops@workstation',
};

/** What Puppet 7.23 logs for a content change under --noop --show_diff (captured on this machine). */
const PUPPET_DIFF = '\n--- /srv/a/motd\t2026-12-06 19:24:16.146208375 +0000\n+++ /tmp/puppet-file20261206-19538-wbhhpj\t2026-12-06 19:24:24.582208683 +0000\n@@ -1,2 +1,2 @@\n-old line token=hunter2\n+new line\n second\n';

function resource(name: string, fields: Partial<PuppetResource> = {}): PuppetResource {
  return {
    resource: name, type: name.split('[')[0]!, title: name.slice(name.indexOf('[') + 1, -1), file: '/var/lib/agent/plans/trees/x/manifests/site.pp', line: 3,
    outOfSync: true, changed: false, failed: false, skipped: false, corrective: false,
    events: [{ property: 'content', previous_value: '{sha256}11', desired_value: '{sha256}22', status: 'noop', message: 'would change' }],
    ...fields,
  };
}

function parsed(resources: PuppetResource[], logs: ParsedPuppetReport['logs'] = []): ParsedPuppetReport {
  return { puppetVersion: '7.23.0', status: 'unchanged', noop: true, noopPending: true, resources, logs, errors: [], metrics: { resources: {}, events: {}, totalSeconds: 1 } };
}

function input(fields: Partial<PlanReportInput> = {}): PlanReportInput {
  return {
    planId: PLAN.plan_id, runId: 'run-1', agentVersion: 'test', instance: { id: 'i-1', hostname: 'h1', private_ip: null }, roles: ['web'],
    activeReleaseId: 'b'.repeat(64), candidateReleaseId: PLAN.candidate.release_id, startedAt: NOW, finishedAt: new Date(NOW.getTime() + 2000),
    releaseDir: '/var/lib/agent/plans/trees/x', redact: [/token=\w+/g], diffs: { enabled: true, maxBytes: 65536 }, ...fields,
  };
}

const answer = (id: string, roles: string[], fields: Partial<PlanReport>): PlanReport => ({
  ...buildPlanReport(input({ instance: { id, hostname: id, private_ip: null }, roles, run: { exitCode: 0, timedOut: false, parsed: parsed([]), errorLines: [], puppetVersion: '7.23.0' } })),
  ...fields,
});

describe('plan diffs', () => {
  it('finds the diff Puppet logged for a resource and replaces the headers, so hosts compare equal', () => {
    const logs = [{ level: 'notice', source: '/Stage[main]/Main/File[motd]/content', message: PUPPET_DIFF }];
    expect(diffFromLogs(logs, 'File[motd]')).toBe(PUPPET_DIFF);
    expect(diffFromLogs(logs, 'File[other]')).toBeUndefined();
    expect(cleanDiff(PUPPET_DIFF, [/token=\w+/g], 1000)).toEqual({ lines: ['--- current', '+++ planned', '@@ -1,2 +1,2 @@', '-old line [redacted]', '+new line', ' second'], truncated: false });
  });

  it('cuts at whole lines within the byte cap and says so', () => {
    expect(cleanDiff(PUPPET_DIFF, [], 30)).toEqual({ lines: ['--- current', '+++ planned'], truncated: true });
  });
});

describe('buildPlanReport', () => {
  it('lists would-change resources with current and desired values and the redacted diff, paths relative to the release', () => {
    const report = buildPlanReport(input({
      run: { exitCode: 0, timedOut: false, parsed: parsed([resource('File[motd]'), resource('File[same]', { outOfSync: false, events: [] })], [{ level: 'notice', source: '/Stage[main]/Main/File[motd]/content', message: PUPPET_DIFF }]), errorLines: [], puppetVersion: '7.23.0' },
    }));
    expect(report).toMatchObject({ result: 'changes', exit_code: 2, resources_total: 2, failures: [], compile_errors: [] });
    expect(report.changes).toEqual([expect.objectContaining({ resource: 'File[motd]', manifest_file: 'manifests/site.pp', events: [{ property: 'content', current: '{sha256}11', desired: '{sha256}22', message: 'would change' }] })]);
    expect(report.changes[0]!.diff!.lines).toContain('-old line [redacted]');
  });

  it('sends no diff when plan_diffs is off, even if Puppet logged one', () => {
    const report = buildPlanReport(input({ diffs: { enabled: false, maxBytes: 65536 }, run: { exitCode: 0, timedOut: false, parsed: parsed([resource('File[motd]')], [{ level: 'notice', source: '/Stage[main]/Main/File[motd]/content', message: PUPPET_DIFF }]), errorLines: [], puppetVersion: null } }));
    expect(report.changes[0]!.diff).toBeUndefined();
  });

  it('a failed resource is a failure with its message; a compile error loses "Error:" and "on node"', () => {
    const failing = resource('File[plugin]', { failed: true, events: [{ property: 'source', previous_value: null, desired_value: null, status: 'failure', message: 'Could not retrieve information' }] });
    expect(buildPlanReport(input({ run: { exitCode: 4, timedOut: false, parsed: parsed([failing]), errorLines: [], puppetVersion: null } })).failures).toEqual([{ resource: 'File[plugin]', message: 'Could not retrieve information' }]);
    const compile = buildPlanReport(input({ run: { exitCode: 1, timedOut: false, parsed: null, errorLines: ['Error: Evaluation Error: Unknown variable (file: /var/lib/agent/plans/trees/x/manifests/site.pp, line: 3) on node web-17.example'], puppetVersion: null } }));
    expect(compile).toMatchObject({ result: 'failed', exit_code: 4, compile_errors: ['Evaluation Error: Unknown variable (file: manifests/site.pp, line: 3)'] });
  });

  it('a candidate that could not be staged, or a timeout, is a failed answer', () => {
    expect(buildPlanReport(input({ error: 'could not stage the candidate: missing' })).failures).toEqual([{ resource: null, message: 'could not stage the candidate: missing' }]);
    expect(buildPlanReport(input({ run: { exitCode: null, timedOut: true, parsed: null, errorLines: [], puppetVersion: null } })).failures[0]!.message).toMatch(/timed out/);
  });
});

describe('plan scope, document and trust', () => {
  it('roles and a stable sample decide who answers; the reason says why not', () => {
    expect(inPlanScope({ ...PLAN, roles: ['web'] }, { instance_id: 'i-1', roles: ['db'] })).toBe(false);
    expect(outOfScopeReason({ ...PLAN, roles: ['web'] }, { instance_id: 'i-1', roles: [] })).toBe(`plan ${PLAN.plan_id} is for roles web; this host has no roles`);
    const ids = Array.from({ length: 2000 }, (_, index) => `i-${index}`);
    const sampled = ids.filter((id) => inPlanScope({ ...PLAN, sample: 10 }, { instance_id: id, roles: [] }));
    expect(sampled.length).toBeGreaterThan(150);
    expect(sampled.length).toBeLessThan(250);
    expect(ids.filter((id) => inPlanScope({ ...PLAN, sample: 10 }, { instance_id: id, roles: [] }))).toEqual(sampled); // stable
  });

  it('parses its own bytes and names the bad key', () => {
    expect(parsePlan(serializePlan(PLAN), 'x')).toEqual(PLAN);
    expect(() => parsePlan(serializePlan({ ...PLAN, sample: 0 }), 's3://b/plans/p.json')).toThrow('s3://b/plans/p.json: sample: expected a percent 1-100 or null, got 0');
    expect(isExpired(PLAN, new Date(NOW.getTime() + 3_600_000))).toBe(true);
  });

  it('trusts a plan signed by a configured key only, and never an expired one', () => {
    const pair = generateKeyPair();
    const keys = [{ name: 'release.pub', key: parsePublicKey(pair.publicKey, 'pub') }];
    const bytes = Buffer.from(serializePlan(PLAN));
    const signature = signManifest(bytes, parsePrivateKey(pair.privateKey, 'key'));
    expect(trustPlan({ bytes, signature, where: 'w' }, keys, NOW)).toEqual(PLAN);
    expect(() => trustPlan({ bytes: Buffer.from(serializePlan({ ...PLAN, sample: 100 })), signature, where: 'w' }, keys, NOW)).toThrow(/w: the signature does not verify/);
    expect(() => trustPlan({ bytes, signature: null, where: 'w' }, keys, NOW)).toThrow(/has no signature/);
    expect(trustPlan({ bytes, signature: null, where: 'w' }, [], NOW)).toEqual(PLAN); // no keys configured: unsigned accepted
    expect(() => trustPlan({ bytes, signature, where: 'w' }, keys, new Date(Date.parse(PLAN.expires_at)))).toThrow(/expired at/);
  });
});

describe('aggregatePlan', () => {
  const change = (resource: string, lines: string[]) => ({ resource, type: 'File', title: resource, manifest_file: null, line: null, events: [{ property: 'content', current: '{sha256}1', desired: '{sha256}2', message: '' }], diff: { lines, truncated: false } });
  const reports = [
    answer('i-1', ['web'], { result: 'changes', changes: [change('File[motd]', ['-v1', '+v2'])] }),
    answer('i-2', ['web'], { result: 'changes', changes: [change('File[motd]', ['-edited', '+v2'])] }),
    answer('i-3', ['app'], { result: 'changes', changes: [change('File[motd]', ['-v1', '+v2'])] }),
    answer('i-4', ['db'], { result: 'failed', failures: [{ resource: null, message: 'lookup failed' }] }),
    answer('i-5', ['db'], { result: 'failed', failures: [{ resource: null, message: 'lookup failed' }] }),
  ];
  const registry = [...reports.map((report) => ({ instance_id: report.instance.id, roles: report.roles })), { instance_id: 'i-6', roles: ['web'] }, { instance_id: 'i-7', roles: ['cache'] }];

  it('folds hosts per resource with the most common change as representative, failures by message, and who has not answered', () => {
    const view = aggregatePlan({ plan: { ...PLAN, roles: ['web', 'app', 'db'] }, reports, registry, now: NOW });
    expect(view.resources).toEqual([{ resource: 'File[motd]', hosts: ['i-1', 'i-2', 'i-3'], roles: ['app', 'web'], representative: { events: expect.any(Array), diff: { lines: ['-v1', '+v2'], truncated: false } }, variants: 2, representative_hosts: 2 }]);
    expect(view.failures).toEqual([{ message: 'lookup failed', resource: null, hosts: ['i-4', 'i-5'], roles: ['db'] }]);
    expect(view.counts).toEqual({ unchanged: 0, changes: 3, failed: 2, unanswered: 1 }); // i-7 (cache) is out of scope
    expect(view.roles.find((role) => role.role === 'web')).toEqual({ role: 'web', answered: 2, unanswered: 1, failed: 0, resources: [{ resource: 'File[motd]', hosts: 2 }] });
    expect(view.exit_code).toBe(4);
  });

  it('exits 2 for changes only, 0 when nothing would change, and says when the plan expired', () => {
    expect(aggregatePlan({ plan: PLAN, reports: reports.slice(0, 3), registry: [], now: NOW }).exit_code).toBe(2);
    const quiet = aggregatePlan({ plan: PLAN, reports: [answer('i-9', [], {})], registry: [], now: new Date(Date.parse(PLAN.expires_at) + 1) });
    expect(quiet).toMatchObject({ exit_code: 0, expired: true });
    expect(formatPlanView(quiet, 'resource', false, NOW)).toMatch(/EXPIRED at 2026-12-06T13:00:00\.000Z: hosts no longer answer it[\s\S]*nothing would change \(exit 0\)\n$/);
  });

  it('colours the diff on a terminal only', () => {
    const view = aggregatePlan({ plan: PLAN, reports, registry, now: NOW });
    expect(formatPlanView(view, 'resource', false, NOW)).not.toContain('\x1b[');
    const coloured = formatPlanView(view, 'resource', true, NOW);
    expect(coloured).toContain('\x1b[31m-v1\x1b[0m');
    expect(coloured).toContain('\x1b[32m+v2\x1b[0m');
  });
});

describe('plan on the command line', () => {
  it('parses plan start/show, run-now --plan, fleet run-now --plan and rollout start --plan', () => {
    expect(parseCommandLine(['plan', 'start', '/srv/tree', '--key', 'k', '--role', 'web,db', '--sample', '10%'])).toMatchObject({ name: 'plan', values: { role: 'web,db', sample: '10%' } });
    expect(parseCommandLine(['plan', 'show', 'p-1', '--by', 'role', '--json'])).toMatchObject({ positionals: ['show', 'p-1'], values: { by: 'role', json: true } });
    expect(parseCommandLine(['run-now', '--plan', 'p-1', '--json'])).toMatchObject({ values: { plan: 'p-1' } });
    expect(parseCommandLine(['fleet', 'run-now', '--plan', 'p-1'])).toMatchObject({ values: { plan: 'p-1' } });
    expect(parseCommandLine(['rollout', 'start', '--plan', 'p-1', '--key', 'k'])).toMatchObject({ positionals: ['start'], values: { plan: 'p-1' } });
    expect([parseSample('10'), parseSample('2.5%'), parseSample('0'), parseSample('101')]).toEqual([10, 2.5, undefined, undefined]);
  });

  it('fleet run-now --plan runs run-now --plan on each host', () => {
    expect(remoteCommand({ user: 'root', noop: false, plan: 'p-1' })).toEqual(['agent', 'run-now', '--trigger', 'fleet', '--json', '--plan', 'p-1']);
    expect(remoteCommand({ user: 'ops', noop: false, plan: null })).toEqual(['sudo', '-n', 'agent', 'run-now', '--trigger', 'fleet', '--json']);
  });
});
