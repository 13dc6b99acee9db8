/** A seeded instance's registry entry and latest report (pure; the shapes tests/e2e/fleet-status.test.ts seeds). */
export function registration(id: string, now: number): Record<string, unknown> {
  return {
    schema: 'agent.registration/v1', instance_id: id, hostname: id, private_ip: '10.2.0.1', public_ip: '198.51.100.1', ami_id: 'ami-1',
    instance_type: 't3.micro', availability_zone: 'us-east-1a', region: 'us-east-1', roles: ['web'], ssh_host_keys: ['ssh-ed25519 AAAAC3Nza'],
    agent_version: '0.1.0', registered_at: new Date(now - 600 * 60_000).toISOString(),
  };
}

export function latestReport(id: string, now: number): Record<string, unknown> {
  const at = new Date(now - 5 * 60_000).toISOString();
  return {
    schema: 'agent.report/v1', run_id: `run-${id}`, agent_version: '0.1.0', trigger: 'schedule', mode: 'enforce',
    instance: { id, hostname: id, private_ip: null }, started_at: at, finished_at: at, duration_ms: 1500,
    next_due_at: new Date(now + 30 * 60_000).toISOString(),
    source: { type: 'rsync', url_or_bucket: 'x', status: 'unchanged', release_id: 'aaaabbbbcccc1111', files_changed: 0, bytes_transferred: 0 },
    apply: { status: 'unchanged', release_id: 'aaaabbbbcccc1111', puppet_version: '7.23.0', puppet_exit_code: 0, duration_ms: 1000 },
    drift: { resources_total: 10, out_of_sync: 0, corrective: 0, intentional: 0, failed: 0, flapping: 0, resources: [] },
    result: 'compliant', exit_code: 0,
  };
}
