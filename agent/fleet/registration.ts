import type { Identity } from '../run/identity.js';
import type { InstanceMetadata } from '../adapters/imds.js';

/** SPEC §4 `registry/<instance_id>.json`: the live list of the fleet, one entry a running instance. */
export interface Registration extends InstanceMetadata {
  schema: 'agent.registration/v1';
  hostname: string;
  roles: string[];
  /** The host's SSH public host keys: `fleet run-now` pins them (SPEC §7). */
  ssh_host_keys: string[];
  agent_version: string;
  registered_at: string;
}

export function buildRegistration(input: {
  identity: Identity;
  roles: readonly string[];
  sshHostKeys: string[];
  agentVersion: string;
  now: Date;
}): Registration {
  const metadata = input.identity.metadata;
  return {
    schema: 'agent.registration/v1',
    instance_id: input.identity.id,
    hostname: input.identity.hostname,
    private_ip: input.identity.private_ip,
    public_ip: metadata?.public_ip ?? null,
    ami_id: metadata?.ami_id ?? null,
    instance_type: metadata?.instance_type ?? null,
    availability_zone: metadata?.availability_zone ?? null,
    region: metadata?.region ?? null,
    roles: [...input.roles],
    ssh_host_keys: input.sshHostKeys,
    agent_version: input.agentVersion,
    registered_at: input.now.toISOString(),
  };
}

/** Whether the entry in S3 needs rewriting: anything but the registration time changed. */
export function registrationChanged(previous: Registration | undefined, next: Registration): boolean {
  if (!previous) return true;
  const { registered_at: _a, ...before } = previous;
  const { registered_at: _b, ...after } = next;
  return JSON.stringify(before) !== JSON.stringify(after);
}
