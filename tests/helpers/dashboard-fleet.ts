import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { isExposed } from '../../agent/rollout/cohort.js';
import type { RolloutDocument } from '../../agent/rollout/document.js';

/**
 * A seeded fleet for the dashboard's tests, its screenshot and its benchmark: `size` hosts in every
 * state (weights below), five roles, three releases, a rollout in its second step (rollout.json on the
 * S3 source, and the `rollout` field of the exposed hosts' reports), flapping and failing resources
 * with events. Deterministic: host i always gets the same documents for the same `now`.
 */
export const REPORT_BUCKET = 'fleet-reports';
export const SOURCE_BUCKET = 'releases';
const ROLLOUT_ID = 'r-20261206-a1b2c3';
export const RELEASES = { old: '1111aaaa2222bbbb'.repeat(4), current: '3333cccc4444dddd'.repeat(4), candidate: '5555eeee6666ffff'.repeat(4) };
const ROLES = [['web'], ['web'], ['db'], ['cache'], ['worker'], ['web', 'edge'], []];

// per 1,000 hosts; the remainder is compliant
const WEIGHTS: Array<[string, number]> = [['changed', 30], ['corrected', 25], ['drifted', 10], ['failed', 15], ['error', 3], ['disabled', 5], ['stale', 10], ['deregistered', 5], ['unreported', 3]];

export function hostId(index: number): string {
  return `i-0${index.toString(16).padStart(16, '0')}`;
}

/** The state host `index` is seeded in (by a stride over the weights, so states spread over the id range). */
export function seededState(index: number): string {
  const slot = (index * 7919) % 1000;
  let edge = 0;
  for (const [state, weight] of WEIGHTS) {
    edge += weight;
    if (slot < edge) return state;
  }
  return 'compliant';
}

export function rolloutDocument(now: number): RolloutDocument {
  const at = new Date(now - 40 * 60_000).toISOString();
  return {
    schema: 'agent.rollout/v1', rollout_id: ROLLOUT_ID, serial: 7, candidate: { release_id: RELEASES.candidate, serial: 12 }, previous: { release_id: RELEASES.current, serial: 11 },
    steps: [1, 10, 50, 100], step: 1, canary_role: null, bake: '10m', max_failed: '5%', on_failure: 'abort', state: 'running',
    started_at: at, step_started_at: new Date(now - 15 * 60_000).toISOString(), updated_at: at, reason: 'step 1 baked', created_by: 'alice', history: [],
  };
}

function resource(name: string, flags: { corrective?: boolean; flapping?: boolean; failed?: boolean; noop?: boolean }) {
  const type = name.slice(0, name.indexOf('['));
  return {
    resource: name, type, title: name.slice(type.length + 1, -1), manifest_file: `/var/puppetstage/modules/${type.toLowerCase()}s/manifests/init.pp`, line: 12,
    corrective_change: Boolean(flags.corrective), flapping: Boolean(flags.flapping), failed: Boolean(flags.failed),
    events: flags.failed
      ? [{ property: 'ensure', previous_value: 'stopped', desired_value: 'running', status: 'failure', message: 'Could not start Service[nginx]: Execution of \'/usr/bin/systemctl start nginx\' returned 1' }]
      : [{ property: type === 'File' ? 'content' : 'ensure', previous_value: type === 'File' ? '{sha256}9f86d081884c7d65' : 'stopped', desired_value: type === 'File' ? '{sha256}60303ae22b998861' : 'running',
          status: flags.noop ? 'noop' : 'success', message: flags.noop ? 'current_value differs, should be desired (noop)' : type === 'File' ? 'content changed \'{sha256}9f86d081884c7d65\' to \'{sha256}60303ae22b998861\'' : 'ensure changed \'stopped\' to \'running\'' }],
  };
}

const FLAPPERS = ['File[/etc/ntp.conf]', 'File[/etc/resolv.conf]', 'Service[chronyd]', 'File[/etc/sysctl.d/90-net.conf]'];

export function seededDocuments(index: number, now: number): { id: string; registration?: unknown; report?: unknown } {
  const id = hostId(index);
  const state = seededState(index);
  const roles = ROLES[index % ROLES.length]!;
  const ip = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
  const doc = rolloutDocument(now);
  const exposed = isExposed(doc, { instance_id: id, roles }, doc.step);
  const release = exposed ? RELEASES.candidate : index % 9 === 0 ? RELEASES.old : RELEASES.current;
  const finished = state === 'stale' ? now - (3 + (index % 20)) * 3600_000 : now - ((index * 37) % 25) * 60_000 - 30_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const resources =
    state === 'corrected' ? [resource(FLAPPERS[index % FLAPPERS.length]!, { corrective: true, flapping: index % 3 === 0 })]
    : state === 'drifted' ? [resource(FLAPPERS[(index + 1) % FLAPPERS.length]!, { corrective: true, noop: true })]
    : state === 'failed' ? [resource(index % 2 ? 'Service[nginx]' : 'Exec[migrate-db]', { failed: true }), resource('File[/etc/nginx/nginx.conf]', {})]
    : state === 'changed' ? [resource('File[/etc/motd]', {}), resource('Package[openssl]', {})]
    : [];
  const result = state === 'stale' || state === 'deregistered' ? 'compliant' : state;
  const registration = state === 'deregistered' ? undefined : {
    schema: 'agent.registration/v1', instance_id: id, hostname: `${roles[0] ?? 'node'}-${index.toString().padStart(5, '0')}.prod.internal`, private_ip: ip, public_ip: null, ami_id: 'ami-0abc1234',
    instance_type: index % 4 ? 't3.medium' : 'm6i.large', availability_zone: `us-east-1${'abc'[index % 3]}`, region: 'us-east-1', roles, ssh_host_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk'],
    agent_version: '0.1.0', registered_at: iso(now - 9 * 86_400_000),
  };
  if (state === 'unreported') return { id, registration };
  const report = {
    schema: 'agent.report/v1', run_id: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`, agent_version: '0.1.0', trigger: 'schedule', mode: state === 'drifted' ? 'noop' : 'enforce',
    instance: { id, hostname: registration?.hostname ?? `node-${index}`, private_ip: ip, roles }, started_at: iso(finished - 4000), finished_at: iso(finished), duration_ms: 4000,
    next_due_at: iso(finished + 30 * 60_000),
    source: { type: 's3', url_or_bucket: 'releases', status: 'unchanged', release_id: release, files_changed: 0, bytes_transferred: 0 },
    apply: { status: state === 'failed' ? 'failed' : resources.length ? 'changed' : 'unchanged', release_id: state === 'error' ? null : release, puppet_version: '7.23.0', puppet_exit_code: state === 'failed' ? 6 : resources.length ? 2 : 0, duration_ms: 3100,
      ...(state === 'failed' ? { error: 'Error: /Stage[main]/Nginx/Service[nginx]: Could not start Service[nginx]' } : {}) },
    drift: { resources_total: 120 + (index % 40), out_of_sync: resources.length, corrective: resources.filter((r) => r.corrective_change).length, intentional: state === 'changed' ? resources.length : 0,
      failed: resources.filter((r) => r.failed).length, flapping: resources.filter((r) => r.flapping).length, resources },
    result, exit_code: { compliant: 0, changed: 2, corrected: 2, drifted: 2, failed: 6, error: 1, disabled: 3 }[result] ?? 0,
    ...(state === 'disabled' ? { disabled: { reason: 'kernel upgrade, INC-4411', by: 'alice', at: iso(now - 3600_000), until: iso(now + 3600_000) } } : {}),
    rollout: { rollout_id: ROLLOUT_ID, serial: 7, step: 1, percent: 10, state: 'running', exposed, candidate_release_id: RELEASES.candidate },
  };
  return { id, registration, report };
}

/** Put the fleet into the loopback S3 server, `concurrency` requests at a time. */
export async function seedDashboardFleet(client: S3Client, size: number, now: number, concurrency = 32): Promise<void> {
  const put = (bucket: string, key: string, body: unknown) =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body), ContentType: 'application/json' }));
  await put(SOURCE_BUCKET, 'puppet/rollout.json', rolloutDocument(now));
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < size) {
      const documents = seededDocuments(next++, now);
      if (documents.registration) await put(REPORT_BUCKET, `registry/${documents.id}.json`, documents.registration);
      if (documents.report) await put(REPORT_BUCKET, `latest/${documents.id}.json`, documents.report);
    }
  }));
}

/** An operator config naming the report bucket and the S3 source (where rollout.json lives). */
export function writeDashboardConfig(dir: string, endpoint: string): string {
  const path = join(dir, 'operator.yaml');
  const location = { endpoint, force_path_style: true };
  writeFileSync(path, stringify({ source: { type: 's3', bucket: SOURCE_BUCKET, prefix: 'puppet', ...location }, report: { bucket: REPORT_BUCKET, ...location } }));
  return path;
}
